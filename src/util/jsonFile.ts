import { readFileSync } from 'node:fs';

/** Parse a JSON file; errors name the file and say whether it is missing or malformed. */
export function readJsonFile(file: string, what = 'file'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read ${what}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}
