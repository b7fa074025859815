/**
 * One app checked on its own, with the config file's rules (schema and cross-key checks):
 * for apps that come from elsewhere than a config file, such as App resources. Problems
 * carry key paths relative to the app, for the caller to name in its own terms.
 */
import { buildApp } from './build.ts';
import { crossChecks } from './checks.ts';
import { issueToPathIssues, type PathIssue } from './issues.ts';
import { appSchema } from './schema.ts';
import type { AppConfig } from './types.ts';

export type AppCheck = { app: AppConfig; problems?: undefined } | { app?: undefined; problems: PathIssue[] };

/** Validates `raw` as a config file's app; relative file paths resolve against `baseDir`. */
export function checkApp(raw: unknown, baseDir: string): AppCheck {
  const result = appSchema.safeParse(raw, { reportInput: true });
  const cross = crossChecks({ appResources: { enabled: true }, apps: [raw] }, () => 0).map((i) => ({
    ...i,
    // Cross checks speak of apps[0]; here the app is the root.
    path: i.path.slice(2),
    message: i.message.replace(/ \(apps\[0\]\.[^)]*\)/g, ''),
  }));
  const problems = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => issueToPathIssues(i, appSchema, raw))),
    ...cross,
  ];
  if (problems.length > 0 || !result.success) return { problems };
  return { app: buildApp(result.data, baseDir) };
}
