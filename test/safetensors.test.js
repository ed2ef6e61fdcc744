// safetensors: round trips for every dtype, deterministic bytes, sharding, and clear errors on
// corrupt files. (Reading files written by Python is covered by the parity tests' fixtures.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P } from './helpers.js';

const dir = () => mkdtempSync(join(tmpdir(), 'pacer-st-'));

test('round trip of F32, F16, BF16, I64 (and more) with metadata, byte-identical on re-save', () =>
  P.scope(() => {
    const d = dir();
    const f = join(d, 'a.safetensors');
    const src = new Map([
      ['w.f32', P.randn([3, 4])],
      ['w.f16', P.randn([5]).to('float16')],
      ['w.bf16', P.randn([2, 2]).to('bfloat16')],
      ['ids', P.tensor([1, -2, 3000000000], { dtype: 'int64' })],
      ['i32', P.tensor([1, 2], { dtype: 'int32' })],
      ['mask', P.tensor([true, false])],
      ['empty', P.zeros([0, 3])],
      ['scalar', P.tensor(2.5)],
    ]);
    P.saveSafetensors(f, src, { format: 'pt', note: 'x' });
    const h = P.readHeader(f);
    assert.deepEqual(h.metadata, { format: 'pt', note: 'x' });
    assert.equal(h.tensors.get('w.bf16').dtype, 'BF16');
    const back = P.loadSafetensors(f);
    for (const [k, t] of src) {
      assert.equal(back.get(k).dtype, t.dtype, k);
      assert.deepEqual(back.get(k).shape, t.shape, k);
      assert.deepEqual(back.get(k).toArray(), t.toArray(), k);
    }
    const g = join(d, 'b.safetensors');
    P.saveSafetensors(g, back, { format: 'pt', note: 'x' });
    assert.ok(readFileSync(f).equals(readFileSync(g)), 'save -> load -> save is byte-identical');
    const asF32 = P.loadSafetensors(f, { dtype: 'float32' });
    assert.equal(asF32.get('w.bf16').dtype, 'float32');
    assert.equal(asF32.get('ids').dtype, 'int64');
    const only = P.loadSafetensors(f, { only: new Set(['ids']) });
    assert.deepEqual([...only.keys()], ['ids']);
    assert.deepEqual(
      readdirSync(d).filter((n) => n.includes('.tmp')),
      [],
      'no temp files left',
    );
  }));

test('sharded save and load through the index', () =>
  P.scope(() => {
    const d = dir();
    const src = new Map(Array.from({ length: 5 }, (_, i) => [`layer.${i}.weight`, P.randn([16, 16])]));
    const files = P.saveShardedSafetensors(d, src, 2 * 16 * 16 * 4);
    assert.deepEqual(files, [
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const index = JSON.parse(readFileSync(join(d, 'model.safetensors.index.json'), 'utf8'));
    assert.equal(index.metadata.total_size, 5 * 16 * 16 * 4);
    assert.equal(index.weight_map['layer.4.weight'], 'model-00003-of-00003.safetensors');
    const back = P.loadShardedSafetensors(join(d, 'model.safetensors.index.json'));
    for (const [k, t] of src) assert.deepEqual(back.get(k).toArray(), t.toArray());
    const single = dir();
    assert.deepEqual(P.saveShardedSafetensors(single, src, 1e9), ['model.safetensors']);
    assert.equal(existsSync(join(single, 'model.safetensors.index.json')), false);
  }));

test('corrupt or truncated files are rejected with the file and tensor named', () =>
  P.scope(() => {
    const d = dir();
    const f = join(d, 'ok.safetensors');
    P.saveSafetensors(f, { a: P.randn([64]) });
    const bytes = readFileSync(f);
    const trunc = join(d, 'trunc.safetensors');
    writeFileSync(trunc, bytes.subarray(0, bytes.length - 10));
    assert.throws(() => P.loadSafetensors(trunc), /trunc\.safetensors: tensor 'a' data .* outside the file/);
    const tiny = join(d, 'tiny.safetensors');
    writeFileSync(tiny, Buffer.from([1, 2, 3]));
    assert.throws(() => P.loadSafetensors(tiny), /tiny\.safetensors: not a safetensors file/);
    const badJson = join(d, 'json.safetensors');
    const hdr = Buffer.from('{"a": nope}   ');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hdr.length));
    writeFileSync(badJson, Buffer.concat([len, hdr]));
    assert.throws(() => P.loadSafetensors(badJson), /json\.safetensors: the header is not valid JSON/);
    const badDtype = join(d, 'dtype.safetensors');
    const h2 = Buffer.from(JSON.stringify({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }));
    len.writeBigUInt64LE(BigInt(h2.length));
    writeFileSync(badDtype, Buffer.concat([len, h2, Buffer.alloc(1)]));
    assert.throws(() => P.loadSafetensors(badDtype), /tensor 'a' has unsupported dtype 'F8_E4M3'/);
    const idx = join(d, 'model.safetensors.index.json');
    writeFileSync(idx, JSON.stringify({ metadata: {}, weight_map: { a: 'missing.safetensors' } }));
    assert.throws(() => P.loadShardedSafetensors(idx), /shard 'missing\.safetensors' .* is missing/);
  }));
