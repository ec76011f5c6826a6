import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeGitHubDelivery } from '../src/github.js';
import * as payloads from './github-payloads.js';

test('push: who pushed how many commits where, the head commit subject, and the compare URL', () => {
  const { content, meta } = describeGitHubDelivery('push', payloads.push);
  assert.equal(
    content,
    'alice pushed 3 commits to main in acme/app: Bump version to 1.4.0\nhttps://github.com/acme/app/compare/6113728f27ae...0d1a26e67d8f',
  );
  assert.deepEqual(meta, { event: 'push', repository: 'acme/app', action: undefined, sender: 'alice', conclusion: undefined });
});

test('push variants: one commit, force push, tags, new and deleted branches', () => {
  const one = { ...payloads.push, commits: payloads.push.commits.slice(0, 1), head_commit: payloads.push.commits[0] };
  assert.match(describeGitHubDelivery('push', one).content, /^alice pushed 1 commit to main in acme\/app: Add retry to the uploader\n/);
  assert.match(describeGitHubDelivery('push', { ...payloads.push, forced: true }).content, /^alice force-pushed 3 commits to main/);
  const tag = { ...payloads.push, ref: 'refs/tags/v1.4.0', created: true, commits: [], head_commit: null };
  assert.equal(describeGitHubDelivery('push', tag).content, 'alice created tag v1.4.0 in acme/app');
  const deleted = { ...payloads.push, ref: 'refs/heads/old-feature', deleted: true, commits: [] };
  assert.equal(describeGitHubDelivery('push', deleted).content, 'alice deleted old-feature in acme/app');
});

test('pull_request: opened with its body, merged when closed with merged set', () => {
  const opened = describeGitHubDelivery('pull_request', payloads.pullRequestOpened);
  assert.equal(
    opened.content,
    'alice opened pull request #12 in acme/app: Retry uploads on 503\nUploads fail when the store is busy.\r\nThis retries three times with backoff.\nhttps://github.com/acme/app/pull/12',
  );
  assert.equal(opened.meta.action, 'opened');
  const merged = describeGitHubDelivery('pull_request', payloads.pullRequestMerged);
  assert.equal(merged.content, 'bob merged pull request #12 in acme/app: Retry uploads on 503\nhttps://github.com/acme/app/pull/12');
  assert.equal(merged.meta.sender, 'bob');
  const synced = describeGitHubDelivery('pull_request', { ...payloads.pullRequestOpened, action: 'synchronize' });
  assert.match(synced.content, /^alice pushed to pull request #12 /);
  const labeled = describeGitHubDelivery('pull_request', { ...payloads.pullRequestOpened, action: 'auto_merge_enabled' });
  assert.match(labeled.content, /^alice auto merge enabled pull request #12 /);
});

test('issues and issue comments: number, title, the comment text, and whether it is a pull request', () => {
  assert.equal(
    describeGitHubDelivery('issues', payloads.issueOpened).content,
    'alice opened issue #7 in acme/app: Uploads hang on large files\nhttps://github.com/acme/app/issues/7',
  );
  assert.equal(
    describeGitHubDelivery('issue_comment', payloads.issueCommentOnPullRequest).content,
    'carol commented on pull request #12 in acme/app (Retry uploads on 503)\nLooks good, but please add a test.\nhttps://github.com/acme/app/pull/12#issuecomment-99',
  );
  const long = { ...payloads.issueCommentOnPullRequest, comment: { body: 'x'.repeat(600) } };
  const excerpt = describeGitHubDelivery('issue_comment', long).content.split('\n')[1]!;
  assert.equal(excerpt, `${'x'.repeat(500)}…`);
});

test('CI events: the outcome in the content and the conclusion in meta', () => {
  const run = describeGitHubDelivery('workflow_run', payloads.workflowRunFailed);
  assert.equal(
    run.content,
    'workflow "CI" completed with failure on main in acme/app (run #562)\nhttps://github.com/acme/app/actions/runs/30433642',
  );
  assert.equal(run.meta.conclusion, 'failure');
  const job = describeGitHubDelivery('workflow_job', payloads.workflowJobInProgress);
  assert.equal(job.content, 'job "build" of workflow "CI" in progress on main in acme/app\nhttps://github.com/acme/app/actions/runs/1/job/5');
  assert.equal(job.meta.conclusion, undefined);
  const check = describeGitHubDelivery('check_run', payloads.checkRunSucceeded);
  assert.equal(check.content, 'check "lint" completed with success on retry-uploads in acme/app\nhttps://github.com/acme/app/runs/4');
  assert.equal(check.meta.conclusion, 'success');
  const suite = describeGitHubDelivery('check_suite', payloads.checkSuiteFailed);
  assert.equal(suite.content, 'check suite of GitHub Actions completed with failure on main in acme/app');
});

test('release and ping', () => {
  assert.equal(
    describeGitHubDelivery('release', payloads.releasePublished).content,
    'alice published release v1.4.0 (Uploads that retry) in acme/app\nhttps://github.com/acme/app/releases/tag/v1.4.0',
  );
  assert.equal(
    describeGitHubDelivery('ping', payloads.ping).content,
    'GitHub webhook ping for acme/app: "Design for failure." (events: push, pull_request)',
  );
});

test('other events: event, action, repository and sender, then the notable fields of the event object', () => {
  assert.equal(describeGitHubDelivery('star', payloads.starCreated).content, 'star created in acme/app by dave');
  assert.equal(
    describeGitHubDelivery('deployment_status', payloads.deploymentStatus).content,
    'deployment_status created in acme/app by alice\nstate: failure',
  );
});

test('hostile or odd payloads give a summary, never a crash or inherited properties', () => {
  for (const body of [null, 42, 'text', [], {}, { repository: 'acme/app', sender: ['x'] }]) {
    const { content, meta } = describeGitHubDelivery('push', body);
    assert.equal(content, 'someone pushed 0 commits to (unknown ref) in (no repository)');
    assert.equal(meta.repository, undefined);
  }
  const inherited = describeGitHubDelivery('constructor', { action: 'toString' });
  assert.equal(inherited.content, 'constructor toString in (no repository) by someone');
  const proto = describeGitHubDelivery('pull_request', { action: 'constructor', pull_request: { number: 1, title: 't' } });
  assert.equal(proto.content, 'someone constructor pull request #1 in (no repository): t');
});
