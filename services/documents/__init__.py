"""The file formats: the compiled comment table (§4.1) and the results report (§4.2) in Word, the
template reader, CSV and XLSX, and the upload safety checks. No database: bytes in, bytes out."""
