/** MCP tools are `mcp__<server>__<tool>`: one label per server, not per tool. */
export function toolFamily(toolName: string | undefined): string | undefined {
  if (toolName === undefined || !toolName.startsWith('mcp__')) return toolName;
  const server = toolName.split('__')[1];
  return server ? `mcp__${server}` : toolName;
}
