import { readFileSync } from 'node:fs';

/**
 * JSON text read from `where` (a file, or `file:line` for a JSON-lines record), parsed. Every
 * JSON the kit reads goes through here, so a syntax error always names the file (the bare
 * parser's `Unexpected token` names nothing).
 */
export function parseJson(text: string, where: string): unknown {
  if (text.trim() === '') throw new Error(`${where}: not valid JSON: it is empty`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${where}: not valid JSON: ${(err as Error).message}`);
  }
}

/** JSON text parsed, or undefined when it is not JSON: for what a killed writer may have cut (a lock file, a log's last line). */
export function parseJsonIfWhole(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Parse a JSON file; errors name the file and say whether it is missing or malformed. */
export function readJsonFile(file: string, what = 'file'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read ${what}: ${(err as Error).message}`);
  }
  return parseJson(text, file);
}
