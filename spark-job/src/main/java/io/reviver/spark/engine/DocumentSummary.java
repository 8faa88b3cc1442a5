package io.reviver.spark.engine;

/**
 * The outcome for one document: one output row.
 *
 * @param index         position of the document in the corpus (stable across retries)
 * @param id            document id as given in the input (never null: a missing id becomes {@code #<index>})
 * @param contentSha256 SHA-256 of the text's UTF-8 bytes, lower-case hex; null when there is no text
 * @param configSha256  the job configuration's hash ({@code JobConfig.configHash(long)})
 * @param summary       the summary, null on error
 * @param inputTokens   document tokens (without the prompt template); 0 when unknown
 * @param outputTokens  tokens of the final summary (without a stop token)
 * @param chunks        chunks summarised separately (1 when the document fit the context); 0 on early error
 * @param press         KV-cache compression method used
 * @param budget        its budget
 * @param prefillNanos  prefill wall time over all passes
 * @param decodeNanos   decode wall time over all passes
 * @param totalNanos    wall time of the whole document including tokenisation
 * @param error         null on success, else what went wrong
 */
public record DocumentSummary(long index, String id, String contentSha256, String configSha256,
                              String summary, int inputTokens,
                              int outputTokens, int chunks, String press, double budget, long prefillNanos,
                              long decodeNanos, long totalNanos, String error) {
}
