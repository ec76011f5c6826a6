export * from './plugins.js';
export { renderChannelTag } from './tag.js';
export { ChannelConnection, resultText, type ConnectionHandlers } from './connection.js';
export { PermissionBroker, type Answer, type OpenRequest } from './permissions.js';
export * from './registry.js';
