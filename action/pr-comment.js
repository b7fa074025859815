// The `diff` job's pull-request comment: posts the Markdown of `tether diff -o markdown` as
// one comment per app and updates that comment on each push (src/cli/github-comment.ts).
// Usage: node pr-comment.js <markdown file> <app key>
// Environment (set by GitHub Actions): GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH,
// GITHUB_OUTPUT; the token in GITHUB_TOKEN. Exit 0 posted or updated, 0 with a notice when
// the event is no pull request, 2 on error. The token is never printed.
import { appendFileSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { commentBody, commentMarker, pullRequestNumber, upsertComment } from '../src/cli/github-comment.ts';

const [file, app] = process.argv.slice(2);
const env = process.env;
try {
  if (!file || !app) throw new Error('usage: node pr-comment.js <markdown file> <app key>');
  const event = env.GITHUB_EVENT_PATH ? JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) : {};
  const number = pullRequestNumber(event);
  if (number === undefined) {
    process.stdout.write('::notice title=tether diff::not a pull request event: no comment posted\n');
  } else {
    const marker = commentMarker(app);
    const result = await upsertComment(
      {
        apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
        repository: env.GITHUB_REPOSITORY ?? '',
        number,
        token: env.GITHUB_TOKEN ?? '',
      },
      marker,
      commentBody(marker, readFileSync(file, 'utf8')),
      {
        log: (line) => process.stderr.write(line + '\n'),
        ...(env.TETHER_COMMENT_BACKOFF_MS ? { backoffMs: Number(env.TETHER_COMMENT_BACKOFF_MS) } : {}),
      },
    );
    process.stdout.write(`${result.action} comment ${result.id} on pull request #${number}\n`);
    if (env.GITHUB_OUTPUT) {
      appendFileSync(env.GITHUB_OUTPUT, `comment-id=${result.id}\ncomment-url=${result.url ?? ''}\n`);
    }
  }
} catch (e) {
  const token = env.GITHUB_TOKEN;
  let msg = e instanceof Error ? e.message : String(e);
  if (token) msg = msg.replaceAll(token, '***');
  process.stderr.write(`error: pull request comment: ${msg}\n`);
  process.exitCode = 2;
}
