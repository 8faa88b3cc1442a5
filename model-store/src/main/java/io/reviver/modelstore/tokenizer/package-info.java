/**
 * Tokenizers built from GGUF metadata ({@link io.reviver.modelstore.tokenizer.Tokenizers#fromGguf}):
 * SentencePiece BPE ({@code llama}) and byte-level BPE ({@code gpt2} with the llama-bpe, qwen2 and gpt2
 * pre-tokenizers), following llama.cpp's semantics for the same metadata.
 */
package io.reviver.modelstore.tokenizer;
