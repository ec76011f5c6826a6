/** GitHub webhook payloads in GitHub's shape, trimmed to the fields a summary could use. */

const repository = { id: 1296269, name: 'app', full_name: 'acme/app', html_url: 'https://github.com/acme/app', private: false };
const alice = { login: 'alice', id: 1, type: 'User' };

export const push = {
  ref: 'refs/heads/main',
  before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
  after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
  created: false,
  deleted: false,
  forced: false,
  compare: 'https://github.com/acme/app/compare/6113728f27ae...0d1a26e67d8f',
  commits: [
    { id: 'a1', message: 'Add retry to the uploader', author: { name: 'Alice', username: 'alice' } },
    { id: 'b2', message: 'Fix the flaky upload test', author: { name: 'Alice', username: 'alice' } },
    { id: '0d1a26e67d8f', message: 'Bump version to 1.4.0\n\nRelease notes in CHANGELOG.md', author: { name: 'Alice', username: 'alice' } },
  ],
  head_commit: { id: '0d1a26e67d8f', message: 'Bump version to 1.4.0\n\nRelease notes in CHANGELOG.md' },
  repository,
  pusher: { name: 'alice', email: 'alice@example.com' },
  sender: alice,
};

export const pullRequestOpened = {
  action: 'opened',
  number: 12,
  pull_request: {
    number: 12,
    state: 'open',
    title: 'Retry uploads on 503',
    body: 'Uploads fail when the store is busy.\r\nThis retries three times with backoff.',
    html_url: 'https://github.com/acme/app/pull/12',
    merged: false,
    user: alice,
    head: { ref: 'retry-uploads' },
    base: { ref: 'main' },
  },
  repository,
  sender: alice,
};

export const pullRequestMerged = {
  ...pullRequestOpened,
  action: 'closed',
  pull_request: { ...pullRequestOpened.pull_request, state: 'closed', merged: true },
  sender: { login: 'bob', id: 2, type: 'User' },
};

export const issueOpened = {
  action: 'opened',
  issue: { number: 7, title: 'Uploads hang on large files', body: '', html_url: 'https://github.com/acme/app/issues/7', user: alice },
  repository,
  sender: alice,
};

export const issueCommentOnPullRequest = {
  action: 'created',
  issue: {
    number: 12,
    title: 'Retry uploads on 503',
    html_url: 'https://github.com/acme/app/pull/12',
    pull_request: { url: 'https://api.github.com/repos/acme/app/pulls/12' },
  },
  comment: { id: 99, body: 'Looks good, but please add a test.', html_url: 'https://github.com/acme/app/pull/12#issuecomment-99' },
  repository,
  sender: { login: 'carol', id: 3, type: 'User' },
};

export const workflowRunFailed = {
  action: 'completed',
  workflow_run: {
    id: 30433642,
    name: 'CI',
    head_branch: 'main',
    run_number: 562,
    status: 'completed',
    conclusion: 'failure',
    html_url: 'https://github.com/acme/app/actions/runs/30433642',
  },
  repository,
  sender: alice,
};

export const workflowJobInProgress = {
  action: 'in_progress',
  workflow_job: { id: 5, name: 'build', workflow_name: 'CI', head_branch: 'main', status: 'in_progress', conclusion: null, html_url: 'https://github.com/acme/app/actions/runs/1/job/5' },
  repository,
  sender: alice,
};

export const checkRunSucceeded = {
  action: 'completed',
  check_run: {
    name: 'lint',
    status: 'completed',
    conclusion: 'success',
    html_url: 'https://github.com/acme/app/runs/4',
    check_suite: { head_branch: 'retry-uploads' },
  },
  repository,
  sender: alice,
};

export const checkSuiteFailed = {
  action: 'completed',
  check_suite: { head_branch: 'main', status: 'completed', conclusion: 'failure', app: { name: 'GitHub Actions' } },
  repository,
  sender: alice,
};

export const releasePublished = {
  action: 'published',
  release: { tag_name: 'v1.4.0', name: 'Uploads that retry', html_url: 'https://github.com/acme/app/releases/tag/v1.4.0' },
  repository,
  sender: alice,
};

export const ping = {
  zen: 'Design for failure.',
  hook_id: 42,
  hook: { type: 'Repository', id: 42, events: ['push', 'pull_request'] },
  repository,
  sender: alice,
};

export const starCreated = {
  action: 'created',
  starred_at: '2026-11-24T08:00:00Z',
  repository,
  sender: { login: 'dave', id: 4, type: 'User' },
};

export const deploymentStatus = {
  action: 'created',
  deployment_status: { state: 'failure', environment: 'production', target_url: 'https://deploy.example/1' },
  repository,
  sender: alice,
};
