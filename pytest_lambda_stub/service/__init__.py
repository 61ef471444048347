"""The emulated Lambda service: names, validation, errors, invoking, the event queue. It knows nothing of botocore's transport."""
