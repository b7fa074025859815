/**
 * The project a commit status goes to, derived from the app's repository URL when it is on
 * the public service: `https://github.com/org/repo(.git)`, `ssh://git@github.com/org/repo`,
 * `git@github.com:org/repo.git` (and the same on gitlab.com, where groups nest). Pure.
 */

/** The path of a repository URL on `host` (without `.git` and slashes around), or undefined. */
function pathOn(host: string, repo: string): string | undefined {
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(repo);
  let h: string;
  let path: string;
  if (scp) {
    h = scp[1]!;
    path = scp[2]!;
  } else {
    let url: URL;
    try {
      url = new URL(repo);
    } catch {
      return undefined;
    }
    h = url.hostname;
    path = decodeURIComponent(url.pathname);
  }
  if (h.toLowerCase() !== host) return undefined;
  const clean = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  return clean === '' ? undefined : clean;
}

/** owner/repo of a repository on github.com, or undefined. */
export function githubRepository(repo: string): string | undefined {
  const path = pathOn('github.com', repo);
  return path && /^[\w.-]+\/[\w.-]+$/.test(path) ? path : undefined;
}

/** group/…/project of a repository on gitlab.com, or undefined. */
export function gitlabProject(repo: string): string | undefined {
  const path = pathOn('gitlab.com', repo);
  return path?.includes('/') ? path : undefined;
}
