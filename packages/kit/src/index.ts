export * from './contract.js';
export { Channel, type ChannelOptions, type MetaInput } from './channel.js';
export { defineTool, textResult, ToolRegistry, type ToolDefinition, type ToolResult, type ListedTool } from './tools.js';
export { createLog, errorText, type Log } from './log.js';
export { ChannelSettings, ensureDir, envPrefix, parseDotEnv, resolveStateDir, writeFileAtomic } from './state.js';
export { runUntilStdinCloses } from './lifecycle.js';
export { HttpError, decodeUtf8, listen, parsePort, readBody, refuseForeignRequest, secretsEqual } from './http.js';
export { checkOutboundFile, type OutboundFile } from './files.js';
export { chunkText, effectiveChunkLimit, type ChunkMode } from './chunk.js';
export {
  AccessStore,
  PAIRED_TEXT,
  PAIRING_TTL_MS,
  type Access,
  type AccessStoreOptions,
  type DmPolicy,
  type GateResult,
  type GroupPolicy,
  type InboundMessage,
  type OutboundRoute,
  type PendingPairing,
  type ReplyToMode,
  type SendApproval,
} from './access.js';
export { Hub, hubAddress, type HubOptions, type LeaderContext, type PlatformConnection, type SessionInfo } from './hub.js';
export { Spool, type SpooledEvent } from './spool.js';
export { jsonLine, onJsonLines } from './json-lines.js';
export { answerSessionCommand, type SessionSwitch } from './session-commands.js';
export { runSharedChannel, setUpBot, type BotSetup, type LedConnection, type SharedChannelOptions } from './shared-channel.js';
export {
  PromptBook,
  type PressAnswer,
  type PromptAction,
  type PromptButton,
  type PromptMessage,
  type PromptPress,
  type PromptSurface,
  type VerdictSink,
} from './prompt-book.js';
export { ChatInbound, type ChatInboundContext, type ChatMessageSteps } from './chat-inbound.js';
