export { Mailbox } from './mailbox.js';
export { FakeHost, type FakeHostOptions, type ToolOutcome } from './fake-host.js';
export { RawServer, type RawMessage } from './raw.js';
export { channelContractSuite, type ContractSubject } from './contract-suite.js';
export { tempStateDir, repoRoot } from './paths.js';
export { launchChromium } from './browser.js';
export { FakeModelApi, scriptedAnswer } from './fake-model-api.js';
export { FakeTelegram, type ApiCall, type Fault, type FakeBotOptions, type MessageInput, type StoredFile, type TgCallbackQuery, type TgChat, type TgEntity, type TgMessage, type TgUpdate, type TgUser, type UploadedFile } from './fake-telegram.js';
export { TerminalProcess } from './terminal.js';
