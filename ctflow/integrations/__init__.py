"""Uploads from distributed engines (Dask, Spark): one ``upload_records`` call per partition."""
