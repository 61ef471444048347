"""Running one handler as Lambda's Python runtime would: context, logs, error payloads."""
