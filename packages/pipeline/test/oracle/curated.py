#!/usr/bin/env python3
"""An oracle for ORDER_CUSTOMER_DATE_PRICE written apart from the pipeline, with Python's csv and decimal modules.

It reads a file:// store the way an auditor would: each batch's claim manifests, then the exact files each one
pinned, in batch-id order, and applies sql/README.md's rules: fulfilled orders ('F') are counted once, in the
batch that first brings them with a known customer; a customer's name is the latest one known at that batch;
totals are summed per batch, customer and order date.

usage: curated.py <store dir>   ->  one line per curated row: batch|custkey|name|date|total (sorted)
"""
import csv
import datetime
import gzip
import io
import json
import os
import re
import sys
from decimal import Decimal

store = sys.argv[1]
manifest_dir = os.path.join(store, '_batchline', 'manifests')
batches = {}
for entity in ('orders', 'customers'):
    folder = os.path.join(manifest_dir, entity)
    if not os.path.isdir(folder):
        continue
    for name in os.listdir(folder):
        if name.endswith('.json'):
            with open(os.path.join(folder, name), encoding='utf-8') as f:
                manifest = json.load(f)
            batches.setdefault(manifest['batchId'], {})[entity] = manifest


def records(entity, manifest):
    """Every CSV record of the batch's pinned files, wherever the batch's files are now."""
    for pinned in sorted(manifest['files'], key=lambda f: f['path']):
        for location in ('processed', 'processing'):
            path = os.path.join(store, entity, location, manifest['batchId'], pinned['path'])
            if os.path.exists(path):
                break
        else:
            raise SystemExit(f'oracle: pinned file {pinned["path"]!r} of {manifest["batchId"]} is missing')
        with open(path, 'rb') as f:
            raw = f.read()
        if raw[:2] == b'\x1f\x8b':
            raw = gzip.decompress(raw)
        yield from csv.reader(io.StringIO(raw.decode('utf-8-sig'), newline=''))


PRICE = re.compile(r'^-?[0-9]{1,10}(\.[0-9]{1,2})?$')


def is_date(text):
    try:
        return len(text) == 10 and datetime.date.fromisoformat(text) is not None
    except ValueError:
        return False


arrival = {}      # custkey -> first batch that brought it
names = {}        # custkey -> [(batch, name)], in batch order
first_fulfilled = {}  # orderkey -> (batch, custkey, date, price): re-deliveries are not counted again
for batch in sorted(batches):
    if 'customers' in batches[batch]:
        for r in records('customers', batches[batch]['customers']):
            if len(r) != 8 or not r[0].isdigit() or r[1] == '':
                continue
            key = int(r[0])
            arrival.setdefault(key, batch)
            names.setdefault(key, []).append((batch, r[1]))
    if 'orders' in batches[batch]:
        for r in records('orders', batches[batch]['orders']):
            if len(r) != 9 or not r[0].isdigit() or not r[1].isdigit() or not PRICE.match(r[3]) or not is_date(r[4]):
                continue
            if r[2] == 'F':
                first_fulfilled.setdefault(int(r[0]), (batch, int(r[1]), r[4], Decimal(r[3])))


def name_at(key, batch):
    return [n for b, n in names[key] if b <= batch][-1]


totals = {}
for batch, custkey, date, price in first_fulfilled.values():
    if custkey not in arrival:
        continue  # still waiting for its customer
    counted_in = max(batch, arrival[custkey])
    row = (counted_in, custkey, name_at(custkey, counted_in), date)
    totals[row] = totals.get(row, Decimal(0)) + price

for (batch, custkey, name, date), total in sorted(totals.items()):
    print(f'{batch}|{custkey}|{json.dumps(name, ensure_ascii=False)}|{date}|{total:.2f}')
