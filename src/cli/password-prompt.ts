import type { ReadStream } from 'node:tty';

/**
 * Reads a password typed at a terminal without echoing it (raw mode; Backspace edits, Enter ends, Ctrl-C aborts).
 * node:readline has no silent mode and the libraries that add one (read, @inquirer/password) either need Node 22
 * or bring a prompt framework; this is the whole of it.
 */
export function promptHidden(
  prompt: string,
  input: ReadStream = process.stdin as ReadStream,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    output.write(prompt);
    input.setRawMode(true);
    input.setEncoding('utf8');
    const finish = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

/** The password for --password-stdin: prompted twice without echo on a terminal, else the first line of stdin. */
export async function readPassword(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) {
    const first = await promptHidden('Password: ', stdin as ReadStream);
    const again = await promptHidden('Repeat password: ', stdin as ReadStream);
    if (first !== again) throw new Error('the passwords do not match');
    return first;
  }
  // a stream, not readFileSync(0): a non-blocking stdin (a terminal, some pipes) makes readFileSync throw EAGAIN
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk as string;
  return text.replace(/\r?\n$/, '');
}
