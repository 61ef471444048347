"""The only code that touches botocore's (and aiobotocore's) internals."""
