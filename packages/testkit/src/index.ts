export { Mailbox } from './mailbox.js';
export { FakeHost, type FakeHostOptions, type ToolOutcome } from './fake-host.js';
export { RawServer, type RawMessage } from './raw.js';
export { channelContractSuite, type ContractSubject } from './contract-suite.js';
export { tempStateDir, repoRoot } from './paths.js';
export { launchChromium } from './browser.js';
export { FakeModelApi, scriptedAnswer } from './fake-model-api.js';
export { TerminalProcess } from './terminal.js';
