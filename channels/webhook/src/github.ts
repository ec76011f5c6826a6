/**
 * GitHub deliveries as an agent reads them: meta with the event, repository, action, sender (and
 * the conclusion of CI results), and a line or two of prose instead of the payload's JSON.
 * Payloads are untrusted input, so every field is read defensively.
 */

export interface GitHubSummary {
  content: string;
  meta: {
    event: string;
    repository?: string;
    action?: string;
    sender?: string;
    conclusion?: string;
  };
}

type Json = Record<string, unknown>;

const REF_PREFIX = /^refs\/(?:heads|tags)\//;
const EXCERPT_CHARS = 500;

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** A key of the payload itself: never one inherited from Object.prototype, like `constructor`. */
function field(value: unknown, key: string): unknown {
  const container = object(value);
  return container && Object.hasOwn(container, key) ? container[key] : undefined;
}

/** The string (or number, as a string) at a path of keys, if there is one. */
function text(value: unknown, ...keys: string[]): string | undefined {
  let current = value;
  for (const key of keys) current = field(current, key);
  if (typeof current === 'string') return current || undefined;
  return typeof current === 'number' ? String(current) : undefined;
}

function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return (end < 0 ? message : message.slice(0, end)).trim();
}

function excerpt(body: string | undefined): string | undefined {
  const trimmed = body?.trim();
  if (!trimmed) return undefined;
  return trimmed.length > EXCERPT_CHARS ? `${trimmed.slice(0, EXCERPT_CHARS)}…` : trimmed;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function onBranch(branch: string | undefined): string {
  return branch ? ` on ${branch}` : '';
}

/** What a CI object's state reads as: `completed with failure`, `requested`, `in progress`. */
function outcome(action: string | undefined, item: unknown): string {
  const conclusion = text(item, 'conclusion');
  if (conclusion) return `completed with ${conclusion}`;
  return (action ?? text(item, 'status') ?? 'updated').replaceAll('_', ' ');
}

interface Delivery {
  payload: Json;
  action?: string;
  repo: string;
  who: string;
}

type Describe = (delivery: Delivery) => string;

/** Lines joined, the empty ones left out. */
function lines(...parts: Array<string | undefined>): string {
  return parts.filter((part) => part).join('\n');
}

const ISSUE_VERBS = new Map([
  ['synchronize', 'pushed to'],
  ['ready_for_review', 'marked ready for review'],
  ['review_requested', 'requested a review on'],
  ['converted_to_draft', 'converted to draft'],
]);

function issueLike(kind: 'issue' | 'pull request', item: unknown, { action, repo, who }: Delivery): string {
  const merged = kind === 'pull request' && action === 'closed' && object(item)?.merged === true;
  const verb = merged ? 'merged' : (ISSUE_VERBS.get(action ?? '') ?? (action ?? 'updated').replaceAll('_', ' '));
  const headline = `${who} ${verb} ${kind} #${text(item, 'number') ?? '?'} in ${repo}: ${text(item, 'title') ?? '(no title)'}`;
  return lines(headline, action === 'opened' ? excerpt(text(item, 'body')) : undefined, text(item, 'html_url'));
}

const DESCRIBE = new Map<string, Describe>(Object.entries({
  push: ({ payload, repo, who }) => {
    const ref = text(payload, 'ref') ?? '';
    const name = ref.replace(REF_PREFIX, '') || '(unknown ref)';
    const target = ref.startsWith('refs/tags/') ? `tag ${name}` : name;
    if (payload.deleted === true) return `${who} deleted ${target} in ${repo}`;
    const commits = Array.isArray(payload.commits) ? payload.commits : [];
    if (payload.created === true && commits.length === 0) return `${who} created ${target} in ${repo}`;
    const verb = payload.forced === true ? 'force-pushed' : 'pushed';
    const message = text(payload, 'head_commit', 'message') ?? text(commits.at(-1), 'message');
    const headline = `${who} ${verb} ${plural(commits.length, 'commit')} to ${target} in ${repo}`;
    return lines(message ? `${headline}: ${firstLine(message)}` : headline, text(payload, 'compare'));
  },
  pull_request: (delivery) => issueLike('pull request', delivery.payload.pull_request, delivery),
  issues: (delivery) => issueLike('issue', delivery.payload.issue, delivery),
  issue_comment: ({ payload, action, repo, who }) => {
    const issue = payload.issue;
    const kind = object(issue)?.pull_request ? 'pull request' : 'issue';
    const verb = action === 'created' ? 'commented on' : `${action ?? 'updated'} a comment on`;
    const headline = `${who} ${verb} ${kind} #${text(issue, 'number') ?? '?'} in ${repo} (${text(issue, 'title') ?? 'no title'})`;
    const comment = payload.comment;
    return lines(headline, excerpt(text(comment, 'body')), text(comment, 'html_url'));
  },
  workflow_run: ({ payload, action, repo }) => {
    const run = payload.workflow_run;
    const name = text(run, 'name') ?? 'workflow';
    const runNumber = text(run, 'run_number');
    return lines(
      `workflow "${name}" ${outcome(action, run)}${onBranch(text(run, 'head_branch'))} in ${repo}` +
        (runNumber ? ` (run #${runNumber})` : ''),
      text(run, 'html_url'),
    );
  },
  workflow_job: ({ payload, action, repo }) => {
    const job = payload.workflow_job;
    const workflow = text(job, 'workflow_name');
    return lines(
      `job "${text(job, 'name') ?? 'job'}"${workflow ? ` of workflow "${workflow}"` : ''} ` +
        `${outcome(action, job)}${onBranch(text(job, 'head_branch'))} in ${repo}`,
      text(job, 'html_url'),
    );
  },
  check_run: ({ payload, action, repo }) => {
    const run = payload.check_run;
    const branch = text(run, 'check_suite', 'head_branch');
    return lines(
      `check "${text(run, 'name') ?? 'check'}" ${outcome(action, run)}${onBranch(branch)} in ${repo}`,
      text(run, 'html_url') ?? text(run, 'details_url'),
    );
  },
  check_suite: ({ payload, action, repo }) => {
    const suite = payload.check_suite;
    const app = text(suite, 'app', 'name');
    return `check suite${app ? ` of ${app}` : ''} ${outcome(action, suite)}${onBranch(text(suite, 'head_branch'))} in ${repo}`;
  },
  release: ({ payload, action, repo, who }) => {
    const release = payload.release;
    const tag = text(release, 'tag_name') ?? '?';
    const name = text(release, 'name');
    return lines(
      `${who} ${action ?? 'updated'} release ${tag}${name && name !== tag ? ` (${name})` : ''} in ${repo}`,
      text(release, 'html_url'),
    );
  },
  ping: ({ payload }) => {
    const target = text(payload, 'repository', 'full_name') ?? text(payload, 'organization', 'login');
    const events = object(payload.hook)?.events;
    const list = Array.isArray(events) ? events.filter((e) => typeof e === 'string').join(', ') : '';
    const zen = text(payload, 'zen');
    return `GitHub webhook ping${target ? ` for ${target}` : ''}${zen ? `: "${zen}"` : ''}${list ? ` (events: ${list})` : ''}`;
  },
} satisfies Record<string, Describe>));

const CI_EVENTS = new Set(['workflow_run', 'workflow_job', 'check_run', 'check_suite']);

/** Fields worth a line in the summary of an event this module has no prose for. */
const SUMMARY_FIELDS = ['number', 'title', 'name', 'state', 'status', 'conclusion', 'ref', 'html_url'];

function describeOther(event: string, { payload, action, repo, who }: Delivery): string {
  const subject = object(field(payload, event)) ?? payload;
  const fields = SUMMARY_FIELDS.flatMap((name) => {
    const value = text(subject, name);
    return value ? [`${name}: ${value}`] : [];
  });
  return lines(`${event}${action ? ` ${action}` : ''} in ${repo} by ${who}`, ...fields);
}

/** Turns a GitHub delivery (the `X-GitHub-Event` header and the parsed body) into an event. */
export function describeGitHubDelivery(event: string, body: unknown): GitHubSummary {
  const payload = object(body) ?? {};
  const repository = text(payload, 'repository', 'full_name');
  const action = text(payload, 'action');
  const sender = text(payload, 'sender', 'login');
  const delivery: Delivery = {
    payload,
    action,
    repo: repository ?? text(payload, 'organization', 'login') ?? '(no repository)',
    who: sender ?? text(payload, 'pusher', 'name') ?? 'someone',
  };
  const describe = DESCRIBE.get(event);
  const content = describe ? describe(delivery) : describeOther(event, delivery);
  const conclusion = CI_EVENTS.has(event) ? text(payload, event, 'conclusion') : undefined;
  return { content, meta: { event, repository, action, sender, conclusion } };
}
