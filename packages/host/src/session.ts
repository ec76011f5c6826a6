/**
 * A channel-capable session around an ACP agent: opted-in channels' events become prompts (queued
 * while the agent is busy, delivered together at the next turn in arrival order), the agent
 * reaches every channel's tools through the tool bridge, and permission requests go to the
 * terminal and every relaying channel at once, the first answer winning. When a turn leaves a
 * person's message unanswered on its channel (an answer written only to the terminal reaches
 * nobody there), the agent is reminded once.
 */
import type * as acp from '@agentclientprotocol/sdk';
import { type Behavior, type ChannelEvent, errorText, inputPreview } from '@openchannels/kit';
import { AcpAgent } from './agent.js';
import { ChannelConnection } from './connection.js';
import { PermissionBroker } from './permissions.js';
import { type Registration, formatEntry } from './registry.js';
import { renderChannelTag } from './tag.js';
import { ToolBridge, type ToolCallSeen } from './tool-bridge.js';

/** What the person at the terminal sees. */
export interface SessionView {
  notice(text: string): void;
  event(channel: string, tag: string): void;
  agentText(text: string): void;
  agentTool(title: string, status: string): void;
  channelTool(call: ToolCallSeen): void;
  permissionOpened(id: string, toolName: string, description: string, preview: string): void;
  permissionClosed(id: string, behavior: Behavior | 'cancelled', via: string): void;
  turnEnded(stopReason: string): void;
  agentStderr(line: string): void;
}

export interface SessionOptions {
  registrations: Registration[];
  agentCommand: string;
  agentArgs: string[];
  cwd: string;
  view: SessionView;
  /** Remind the agent when a turn answered a person's channel message only in the terminal (default true). */
  replyReminders?: boolean;
}

interface RunningChannel {
  name: string;
  connection: ChannelConnection;
  /** Opted in and declares claude/channel: its events reach the agent. */
  delivers: boolean;
  /** Delivers, and declares claude/channel/permission: it is asked for permission verdicts. */
  relays: boolean;
  /** Has a `reply` tool: the way back to the people who write there. */
  replies: boolean;
}

type QueuedPrompt =
  | { from: 'user' | 'host'; block: acp.ContentBlock }
  /** `awaitsReply`: the chat of a person's message, on a channel that can reply. */
  | { from: 'channel'; block: acp.ContentBlock; channel: string; awaitsReply?: string };

export class HostSession {
  private readonly channels = new Map<string, RunningChannel>();
  private readonly broker = new PermissionBroker();
  private readonly queue: QueuedPrompt[] = [];
  private agent?: AcpAgent;
  private bridge?: ToolBridge;
  private busy = false;
  private firstTurn = true;
  /** The running turn's channel messages from people, by channel: the chat ids not answered yet. */
  private unanswered = new Map<string, Set<string>>();
  private ended?: (code: number) => void;
  readonly finished = new Promise<number>((resolve) => (this.ended = resolve));

  constructor(private readonly options: SessionOptions) {}

  /** Starts every channel in parallel, then the agent with a session that can reach them. */
  async start(): Promise<void> {
    const { view } = this.options;
    for (const registration of this.options.registrations) {
      if (registration.notice) view.notice(registration.notice);
    }
    const startable = this.options.registrations.filter((r): r is Registration & { spec: NonNullable<Registration['spec']> } => !!r.spec);
    const started = await Promise.allSettled(startable.map((r) => this.startChannel(r)));
    started.forEach((outcome, i) => {
      if (outcome.status === 'rejected') view.notice(`${formatEntry(startable[i]!.entry)}: ${errorText(outcome.reason)}`);
    });
    this.bridge = await ToolBridge.start(
      new Map([...this.channels].map(([name, channel]) => [name, channel.connection])),
      (call) => {
        if (call.tool === 'reply' && !call.result.isError) this.unanswered.get(call.channel)?.delete(String(call.arguments.chat_id));
        view.channelTool(call);
      },
    );
    this.agent = await AcpAgent.start({
      command: this.options.agentCommand,
      args: this.options.agentArgs,
      cwd: this.options.cwd,
      mcpServers: [...this.channels.keys()].map((name) => this.bridge!.mcpServerFor(name)),
      handlers: {
        onUpdate: (update) => this.showUpdate(update),
        requestPermission: (request, signal) => this.askPermission(request, signal),
        onStderr: (line) => view.agentStderr(line),
        onExit: (code) => {
          view.notice(`the agent exited (code ${code})`);
          this.ended?.(1);
        },
      },
    });
    this.pump();
  }

  private async startChannel(registration: Registration & { spec: NonNullable<Registration['spec']> }): Promise<void> {
    const { spec } = registration;
    const { view } = this.options;
    const connection = await ChannelConnection.start(spec, {
      onEvent: (event) => this.onEvent(spec.name, event),
      onVerdict: ({ request_id, behavior }) => {
        const channel = this.channels.get(spec.name);
        // Only a channel that was asked may answer; an unknown id is dropped silently.
        if (channel?.relays) this.broker.answer(request_id, { behavior, via: spec.name });
      },
      onStderr: (line) => view.agentStderr(`[${spec.name}] ${line}`),
      onExit: () => view.notice(`channel ${spec.name} exited`),
    });
    let delivers = registration.deliversEvents;
    if (delivers && !connection.isChannel) {
      delivers = false;
      view.notice(`${formatEntry(registration.entry)}: channel notifications skipped: server does not declare claude/channel`);
    }
    // A channel whose tools cannot be listed still delivers; it is only never waited on for a reply.
    const tools = await connection.listTools().catch(() => []);
    const replies = tools.some((tool) => tool.name === 'reply');
    this.channels.set(spec.name, { name: spec.name, connection, delivers, relays: delivers && connection.relaysPermissions, replies });
  }

  private onEvent(channelName: string, event: ChannelEvent): void {
    const channel = this.channels.get(channelName);
    if (!channel?.delivers) return; // not opted in for this session: a plain MCP server
    const tag = renderChannelTag(channelName, event.content, event.meta);
    this.options.view.event(channelName, tag);
    // A message from a person names its sender (`user`); an alert or a webhook event needs no answer.
    const chatId = event.meta?.chat_id;
    const awaitsReply = channel.replies && event.meta?.user !== undefined && chatId !== undefined ? String(chatId) : undefined;
    this.enqueue({ from: 'channel', block: { type: 'text', text: tag }, channel: channelName, ...(awaitsReply ? { awaitsReply } : {}) });
  }

  /** What the person typed goes to the agent like any prompt, in order with channel events. */
  say(text: string): void {
    this.enqueue({ from: 'user', block: { type: 'text', text } });
  }

  /** Applies an answer typed at the terminal. Returns false when no such request is open. */
  answer(id: string, behavior: Behavior): boolean {
    return this.broker.answer(id, { behavior, via: 'terminal' });
  }

  get openPermissionIds(): string[] {
    return this.broker.openIds;
  }

  /** Resolves once no turn runs and nothing waits to be sent. */
  async idle(): Promise<void> {
    while (this.busy || this.queue.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  async cancelTurn(): Promise<void> {
    if (this.busy) await this.agent?.cancel();
  }

  private enqueue(item: QueuedPrompt): void {
    this.queue.push(item);
    this.pump();
  }

  /** Starts a turn with everything queued, unless one is running (then the next turn takes it). */
  private pump(): void {
    if (this.busy || !this.agent || this.queue.length === 0) return;
    this.busy = true;
    const items = this.queue.splice(0);
    const blocks = items.map((item) => item.block);
    this.unanswered = new Map();
    for (const item of items) {
      if (item.from !== 'channel' || item.awaitsReply === undefined) continue;
      const chats = this.unanswered.get(item.channel) ?? new Set<string>();
      this.unanswered.set(item.channel, chats.add(item.awaitsReply));
    }
    if (this.firstTurn) {
      this.firstTurn = false;
      const preamble = this.instructionsPreamble();
      if (preamble) blocks.unshift({ type: 'text', text: preamble });
    }
    this.agent
      .prompt(blocks)
      .then((stopReason) => {
        this.options.view.turnEnded(stopReason);
        if (stopReason === 'end_turn') this.remindOfUnanswered();
      })
      .catch((err) => this.options.view.notice(`the turn failed: ${errorText(err)}`))
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  /**
   * People on a channel see only what its reply tool sends. A turn that ended with a person's
   * message unanswered most likely wrote its answer to the terminal: the agent is told so once,
   * in the next turn (a reminder asks for no reply itself, so it cannot repeat).
   */
  private remindOfUnanswered(): void {
    const chats = [...this.unanswered].flatMap(([channel, ids]) => [...ids].map((id) => `${channel} (chat_id ${id})`));
    this.unanswered = new Map();
    if (chats.length === 0 || this.options.replyReminders === false) return;
    const where = chats.join(', ');
    this.options.view.notice(`nothing was sent back to ${where}: reminding the agent`);
    const text =
      `[openchannels] Your last turn sent nothing back to ${where}. The people there see only what the channel's ` +
      'reply tool sends, not what you write here. If they should hear from you, answer them now with that reply tool; ' +
      'if no answer is needed, say so in one line.';
    this.enqueue({ from: 'host', block: { type: 'text', text } });
  }

  /**
   * Channel instructions also reach each agent as its MCP servers' instructions; this first-turn
   * block covers agents that do not put those in their system prompt.
   */
  private instructionsPreamble(): string | undefined {
    const sections = [...this.channels.values()]
      .filter((c) => c.delivers && c.connection.instructions)
      .map((c) => `## ${c.name}\n${c.connection.instructions}`);
    return sections.length ? `# Channel instructions\n\n${sections.join('\n\n')}` : undefined;
  }

  private showUpdate(update: acp.SessionUpdate): void {
    const { view } = this.options;
    if (update.sessionUpdate === 'agent_message_chunk' && update.content.type === 'text') {
      view.agentText(update.content.text);
    } else if (update.sessionUpdate === 'tool_call') {
      view.agentTool(update.title, update.status ?? 'pending');
    } else if (update.sessionUpdate === 'tool_call_update' && update.status && update.title) {
      view.agentTool(update.title, update.status);
    }
  }

  private async askPermission(request: acp.RequestPermissionRequest, signal: AbortSignal): Promise<acp.RequestPermissionResponse> {
    const { toolCall, options } = request;
    const meta = toolCall._meta as { claudeCode?: { toolName?: string } } | undefined | null;
    // Claude's adapter names the tool in _meta; otherwise the kind says more than 'other' does.
    const kind = toolCall.kind && toolCall.kind !== 'other' ? toolCall.kind : undefined;
    const toolName = meta?.claudeCode?.toolName ?? kind ?? toolCall.title ?? 'tool';
    const description = toolCall.title ?? toolName;
    const preview = inputPreview(toolCall.rawInput ?? {});
    const { id, answered } = this.broker.openRequest();
    this.options.view.permissionOpened(id, toolName, description, preview);
    const relaying = [...this.channels.values()].filter((c) => c.relays);
    await Promise.all(
      relaying.map((c) =>
        c.connection
          .sendPermissionRequest({ request_id: id, tool_name: toolName, description, input_preview: preview })
          .catch((err) => this.options.view.notice(`could not ask ${c.name}: ${errorText(err)}`)),
      ),
    );
    const cancelled = new Promise<'cancelled'>((resolve) => signal.addEventListener('abort', () => resolve('cancelled')));
    const outcome = await Promise.race([answered, cancelled]);
    if (outcome === 'cancelled') {
      this.broker.answer(id, { behavior: 'deny', via: 'cancelled' });
      this.options.view.permissionClosed(id, 'cancelled', 'the agent');
      return { outcome: { outcome: 'cancelled' } };
    }
    this.options.view.permissionClosed(id, outcome.behavior, outcome.via);
    const wanted = outcome.behavior === 'allow' ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
    const option = wanted.map((kind) => options.find((o) => o.kind === kind)).find((o) => o !== undefined);
    if (!option) return { outcome: { outcome: 'cancelled' } };
    return { outcome: { outcome: 'selected', optionId: option.optionId } };
  }

  async close(): Promise<void> {
    await this.agent?.close().catch(() => {});
    await this.bridge?.close().catch(() => {});
    await Promise.all([...this.channels.values()].map((c) => c.connection.close().catch(() => {})));
  }
}

