"""Independent XLSX reader for the end-to-end tests: prints, as JSON, the
number of data rows (rows after the header) of every sheet of every workbook
given, read with openpyxl (not excelize)."""
import json
import sys

import openpyxl

out = {}
for path in sys.argv[1:]:
    wb = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for ws in wb.worksheets:
        n = 0
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            if i == 0:
                continue
            if any(v is not None for v in row):
                n += 1
        sheets[ws.title] = n
    out[path] = sheets
    wb.close()
json.dump(out, sys.stdout)
