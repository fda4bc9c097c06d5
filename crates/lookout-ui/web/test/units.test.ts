import { test } from "node:test";
import assert from "node:assert/strict";
import { formatValueString as f, toFixed, dtDuration } from "../src/lib/units";

test("automatic decimals", () => {
  assert.equal(toFixed(3), "3");
  assert.equal(toFixed(3.14159), "3.14");
  assert.equal(toFixed(0.012345), "0.0123");
  assert.equal(toFixed(1.5, 2), "1.50");
  assert.equal(toFixed(0), "0");
});

test("count and percent units", () => {
  assert.equal(f(1500, "short"), "1.50 K");
  assert.equal(f(2_000_000, "short"), "2 Mil");
  assert.equal(f(42, "percent"), "42%");
  assert.equal(f(0.425, "percentunit", 1), "42.5%");
  assert.equal(f(12.5, "none"), "12.5");
  assert.equal(f(1200, "reqps"), "1.20K req/s");
  assert.equal(f(3, "ops"), "3 ops/s");
});

test("data units: IEC for bytes, SI for decbytes and rates", () => {
  assert.equal(f(1024, "bytes"), "1 KiB");
  assert.equal(f(1536, "bytes"), "1.50 KiB");
  assert.equal(f(1_000_000, "decbytes"), "1 MB");
  assert.equal(f(2048, "bits"), "2 Kib");
  assert.equal(f(1e9, "bps"), "1 Gbps");
  assert.equal(f(5e3, "Bps"), "5 kB/s");
  assert.equal(f(1048576, "binBps"), "1 MiB/s");
  assert.equal(f(1e6, "hertz"), "1 MHz");
  assert.equal(f(500, "bytes"), "500 B");
});

test("time units scale up and down", () => {
  assert.equal(f(0.25, "s"), "250 ms");
  assert.equal(f(90, "s"), "1.50 min");
  assert.equal(f(7200, "s"), "2 hour");
  assert.equal(f(1500, "ms"), "1.50 s");
  assert.equal(f(12, "µs"), "12 µs");
  assert.equal(f(2500, "us"), "2.50 ms");
  assert.equal(f(3e9, "ns"), "3 s");
  assert.equal(f(0, "s"), "0 s");
});

test("dtdurations lists units", () => {
  assert.equal(dtDuration(3661, 2).text, "1 hour, 1 minute, 1 second");
  assert.equal(dtDuration(3661, undefined).text, "1 hour");
  assert.equal(f(90061, "dtdurations", 1), "1 day, 1 hour");
});

test("temperatures, custom units and non-finite values", () => {
  assert.equal(f(21.5, "celsius"), "21.5°C");
  assert.equal(f(3, "widgets"), "3 widgets");
  assert.equal(f(3, "suffix:/s"), "3/s");
  assert.equal(f(Infinity, "bytes"), "+Inf");
  assert.equal(f(NaN, "s"), "NaN");
  assert.equal(f(null, "s"), "");
});
