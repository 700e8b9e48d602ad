"""Module 1's project: a production CSV -> clean Parquet -> S3 converter and a local S3 server."""
