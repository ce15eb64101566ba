/**
 * How `npm run mutation -- --shard I/N` splits the files to mutate. Why this module exists: the
 * shards of a CI matrix must together cover every file exactly once, take about as long each, and
 * keep a file in the same shard from one run to the next (each shard keeps its own incremental
 * results); test/mutationShards.test.ts checks the split apart from Stryker.
 */

/**
 * The files of shard `index` (1-based) of `count`: `files` in the order given (run.mjs sorts them
 * by path), cut into `count` runs of consecutive files of about equal size; a file belongs to the
 * shard in which its middle byte falls. Consecutive, so that a file added or grown moves only the
 * files at the cuts to another shard; by size, so that the jobs of a matrix take about as long.
 *
 * @param {readonly string[]} files
 * @param {(file: string) => number} sizeOf bytes of a file
 * @param {number} index 1..count
 * @param {number} count
 * @returns {string[]}
 */
export function shardOf(files, sizeOf, index, count) {
  const sizes = files.map(sizeOf);
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  return files.filter((_, i) => {
    const middle = before + sizes[i] / 2;
    before += sizes[i];
    const shard = total === 0 ? Math.floor((i * count) / files.length) : Math.floor((middle * count) / total);
    return Math.min(count - 1, shard) === index - 1;
  });
}
