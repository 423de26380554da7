import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  CUSTOMER_COLUMNS,
  ORDER_COLUMNS,
  customerRows,
  generateSampleData,
  orderRows,
  sampleSizes,
  toCsv,
  writeSampleCsv,
} from '../src/sample-data.js';

describe('generateSampleData', () => {
  it('has TPC-H cardinalities', () => {
    expect(sampleSizes({ scale: 1 })).toEqual({ customers: 150_000, orders: 1_500_000 });
    const data = generateSampleData({ scale: 0.01 });
    expect(data.customers).toHaveLength(1500);
    expect(data.orders).toHaveLength(15_000);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = generateSampleData({ scale: 0.002, seed: 7 });
    const b = generateSampleData({ scale: 0.002, seed: 7 });
    const c = generateSampleData({ scale: 0.002, seed: 8 });
    expect(b).toEqual(a);
    expect(c.orders.map((o) => o.O_TOTALPRICE)).not.toEqual(a.orders.map((o) => o.O_TOTALPRICE));
  });

  it('produces valid TPC-H-shaped values', () => {
    const { orders, customers } = generateSampleData({ scale: 0.01 });
    const keys = new Set(customers.map((c) => c.C_CUSTKEY));
    const statuses = { F: 0, O: 0, P: 0 };
    for (const o of orders) {
      expect(keys.has(o.O_CUSTKEY)).toBe(true);
      expect(o.O_CUSTKEY % 3).not.toBe(0);
      expect(o.O_TOTALPRICE).toMatch(/^\d+\.\d{2}$/);
      expect(o.O_ORDERDATE >= '1992-01-01' && o.O_ORDERDATE <= '1998-08-02').toBe(true);
      expect(Number.isNaN(Date.parse(`${o.O_ORDERDATE}T00:00:00Z`))).toBe(false);
      statuses[o.O_ORDERSTATUS]++;
    }
    // TPC-H: about half fulfilled, half open, a few partial.
    expect(statuses.F / orders.length).toBeGreaterThan(0.45);
    expect(statuses.F / orders.length).toBeLessThan(0.53);
    expect(statuses.P / orders.length).toBeLessThan(0.05);
    expect(statuses.P).toBeGreaterThan(0);
    for (const c of customers) expect(c.C_ACCTBAL).toMatch(/^-?\d+\.\d{2}$/);
  });

  it('rejects a bad scale with the value named', () => {
    expect(() => generateSampleData({ scale: 0 })).toThrow('Invalid scale 0');
    expect(() => sampleSizes({ scale: Number.NaN })).toThrow(/Invalid scale/);
  });
});

describe('CSV rendering', () => {
  it('round-trips through an independent CSV parser, awkward text included', () => {
    const { orders, customers } = generateSampleData({ scale: 0.01 });
    expect(orders.some((o) => o.O_COMMENT.includes('\n'))).toBe(true);
    expect(orders.some((o) => o.O_COMMENT.includes(','))).toBe(true);
    expect(orders.some((o) => o.O_COMMENT.includes('"'))).toBe(true);
    const parsedOrders = parse(toCsv('orders', orders, { header: true }), { columns: true }) as Record<string, string>[];
    expect(Object.keys(parsedOrders[0]!)).toEqual([...ORDER_COLUMNS]);
    expect(parsedOrders.map((r) => r.O_COMMENT)).toEqual(orders.map((o) => o.O_COMMENT));
    expect(parsedOrders.map((r) => Number(r.O_ORDERKEY))).toEqual(orders.map((o) => o.O_ORDERKEY));
    const parsedCustomers = parse(toCsv('customers', customers), { columns: [...CUSTOMER_COLUMNS] }) as Record<string, string>[];
    expect(parsedCustomers).toHaveLength(customers.length);
    expect(parsedCustomers[9]!.C_NAME).toBe('Customer#000000010');
  });

  it('streams files with a header that equal the in-memory rows', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'batchline-sample-'));
    try {
      const file = path.join(dir, 'nested', 'orders.csv');
      const written = await writeSampleCsv(file, 'orders', { scale: 0.0151, seed: 3 });
      const expected = [...orderRows({ scale: 0.0151, seed: 3 })];
      expect(written).toBe(expected.length);
      expect(expected.length).toBeGreaterThan(20_000); // spans several 10k-row chunks
      const text = await readFile(file, 'utf8');
      expect(text.split('\n', 1)[0]).toBe(ORDER_COLUMNS.join(','));
      const parsed = parse(text, { columns: true }) as Record<string, string>[];
      expect(parsed.map((r) => r.O_TOTALPRICE)).toEqual(expected.map((o) => o.O_TOTALPRICE));
      const cfile = path.join(dir, 'customers.csv');
      expect(await writeSampleCsv(cfile, 'customers', { scale: 0.0001 })).toBe([...customerRows({ scale: 0.0001 })].length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
