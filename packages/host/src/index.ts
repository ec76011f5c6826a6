export * from './plugins.js';
export { renderChannelTag } from './tag.js';
export { ChannelConnection, resultText, type ConnectionHandlers } from './connection.js';
export { PermissionBroker, type Answer, type OpenRequest } from './permissions.js';
export * from './registry.js';
export { AcpAgent, type AgentHandlers } from './agent.js';
export { HostSession, type SessionView, type SessionOptions } from './session.js';
export { ToolBridge, type ToolCallSeen, type StdioMcpServer } from './tool-bridge.js';
export { parseRunArguments, runSession, type RunArguments } from './run.js';
