/** The abbreviated commit name, as git shows it: the first 7 characters of the sha. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
