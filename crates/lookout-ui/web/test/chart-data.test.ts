import { test } from "node:test";
import assert from "node:assert/strict";
import { align, reduce, stack } from "../src/components/chart-data";

test("align puts series on one axis with gaps", () => {
  const a = align([{ points: [[1, 1], [2, 2]] }, { points: [[2, 5], [3, NaN]] }]);
  assert.deepEqual(a.xs, [1, 2, 3]);
  assert.deepEqual(a.ys, [[1, 2, null], [null, 5, null]]);
});

test("normal stacking sums visible series, gaps count as zero above", () => {
  const ys = [[1, null, 3], [10, 20, 30], [100, 100, 100]];
  assert.deepEqual(stack(ys, [true, true, true], "normal"), [[1, null, 3], [11, 20, 33], [111, 120, 133]]);
  assert.deepEqual(stack(ys, [true, false, true], "normal"), [[1, null, 3], [10, 20, 30], [101, 100, 103]]);
});

test("percent stacking ends at 1", () => {
  const out = stack([[1, 3], [3, 1]], [true, true], "percent");
  assert.deepEqual(out, [[0.25, 0.75], [1, 1]]);
});

test("reductions", () => {
  const v = [1, null, 4, 2];
  assert.equal(reduce(v, "lastNotNull"), 2);
  assert.equal(reduce([1, null], "last"), null);
  assert.equal(reduce(v, "max"), 4);
  assert.equal(reduce(v, "mean"), 7 / 3);
  assert.equal(reduce(v, "sum"), 7);
  assert.equal(reduce([5, 7, 2], "delta"), 4);
  assert.equal(reduce([], "mean"), null);
});
