/** YAML text for the hand-off files: a comment header, then the value, with long ARNs never folded. */
import { Document } from 'yaml';

export function yamlText(value: unknown, header: string[] = []): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  if (header.length > 0) doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** Several YAML documents in one file (`---` between them), under one header. */
export function yamlStream(values: unknown[], header: string[] = []): string {
  const body = values
    .map((v) => new Document(v, { aliasDuplicateObjects: false }).toString({ lineWidth: 0 }))
    .join('---\n');
  return header.length > 0 ? `${header.map((l) => `# ${l}`.trimEnd()).join('\n')}\n${body}` : body;
}
