"""Independent XLSX reader for the period report's tests: prints, as JSON,
every sheet of the workbook given as a list of rows, each a mapping from the
sheet's header (its first row) to the cell's value, read with openpyxl (not
excelize). Times are ISO 8601 strings; empty cells are null."""
import datetime
import json
import sys

import openpyxl


def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
out = {}
for ws in wb.worksheets:
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        out[ws.title] = []
        continue
    header = [str(h) for h in rows[0]]
    out[ws.title] = [{h: value(v) for h, v in zip(header, r)} for r in rows[1:] if any(v is not None for v in r)]
wb.close()
json.dump(out, sys.stdout)
