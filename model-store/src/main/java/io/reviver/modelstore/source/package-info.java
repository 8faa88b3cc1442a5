/**
 * Where model files come from and how they reach the local disk.
 *
 * <ul>
 *   <li>{@link io.reviver.modelstore.source.ModelLocation}: a typed, parsed-once model location: a local
 *       filesystem path or a Hadoop FileSystem URI ({@code hdfs://}, {@code s3a://}, {@code file://}, ...),
 *       with an optional expected SHA-256.</li>
 *   <li>{@link io.reviver.modelstore.source.ModelCache}: turns a location into a local, verified file. Local
 *       paths are used in place; remote objects are copied once into a content-checked cache directory that
 *       several threads and several processes (e.g. Spark executors on one host) can share safely.</li>
 * </ul>
 *
 * <p>Every failure is a subclass of {@link io.reviver.modelstore.ModelStoreException} whose message names the
 * location, path or hash at fault: {@link io.reviver.modelstore.source.ModelLocationException} for a bad location
 * string, {@link io.reviver.modelstore.source.ModelSourceException} for a missing or unreadable source,
 * {@link io.reviver.modelstore.source.ChecksumMismatchException} for content that does not match its expected
 * SHA-256, and {@link io.reviver.modelstore.source.ModelCacheException} for a cache directory that cannot be
 * used.
 */
package io.reviver.modelstore.source;
