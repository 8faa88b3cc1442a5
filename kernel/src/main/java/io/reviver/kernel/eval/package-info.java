/**
 * The quality harness of {@code reviver eval}: seeded long-context retrieval tasks
 * ({@link io.reviver.kernel.eval.RetrievalTasks}), one recorded prefill per example compressed by every press and
 * budget, and the accuracy, fidelity and sketch-error figures ({@link io.reviver.kernel.eval.QualityEval}).
 */
package io.reviver.kernel.eval;
