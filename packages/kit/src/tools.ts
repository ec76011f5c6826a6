/**
 * The tool registry: tools declared once with a zod schema, listed as JSON Schema, and called
 * with validated arguments. Every failure is a tool result with `isError`, never a JSON-RPC error.
 */
import { z } from 'zod';

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  isError?: boolean;
}

export interface ToolDefinition<Schema extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: Schema;
  run(args: z.infer<Schema>): Promise<string> | string;
}

/** Keeps a tool's argument types tied to its schema. */
export function defineTool<Schema extends z.ZodObject>(tool: ToolDefinition<Schema>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

export interface ListedTool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
}

export function textResult(text: string, isError = false): ToolResult {
  return isError ? { content: [{ type: 'text', text }], isError: true } : { content: [{ type: 'text', text }] };
}

export class ToolRegistry {
  private readonly tools = new Map<string, { tool: ToolDefinition; listed: ListedTool }>();

  constructor(tools: readonly ToolDefinition[] = []) {
    for (const tool of tools) this.add(tool);
  }

  add(tool: ToolDefinition): void {
    if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name} is defined twice`);
    const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
    this.tools.set(tool.name, {
      tool,
      listed: { name: tool.name, description: tool.description, inputSchema: { ...schema, type: 'object' } },
    });
  }

  get size(): number {
    return this.tools.size;
  }

  list(): ListedTool[] {
    return [...this.tools.values()].map((entry) => entry.listed);
  }

  async call(name: string, args: unknown): Promise<ToolResult> {
    const entry = this.tools.get(name);
    if (!entry) return textResult(`unknown tool: ${name}`, true);
    const parsed = entry.tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      return textResult(`${name} failed: invalid arguments: ${describeIssues(parsed.error)}`, true);
    }
    try {
      return textResult(await entry.tool.run(parsed.data));
    } catch (err) {
      return textResult(`${name} failed: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
