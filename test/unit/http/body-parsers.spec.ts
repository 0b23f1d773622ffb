import { BodyError, charsetOf, parseForm } from '../../../src/http/body-parsers';

function refusal(fn: () => unknown): BodyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BodyError) return err;
    throw err;
  }
  throw new Error('no BodyError');
}

describe('form bodies (parseForm)', () => {
  it('decodes UTF-8, keeps a repeated parameter as an array, and has no prototype', () => {
    const form = parseForm(Buffer.from('a=caf%C3%A9&b=x+y&a=2&__proto__=p'), undefined);
    // `__proto__` is an ordinary own parameter: there is no prototype to reach
    expect(Object.entries(form)).toEqual([
      ['a', ['café', '2']],
      ['b', 'x y'],
      ['__proto__', 'p'],
    ]);
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(parseForm(Buffer.from(''), 'utf-8')).toEqual(Object.create(null));
  });

  it('decodes ISO-8859-1 when the Content-Type says so (percent-escapes and raw bytes)', () => {
    const body = Buffer.concat([Buffer.from('name=caf%E9&raw='), Buffer.from([0xe9])]);
    expect({
      ...parseForm(body, charsetOf('application/x-www-form-urlencoded; charset=ISO-8859-1')),
    }).toEqual({
      name: 'café',
      raw: 'é',
    });
  });

  it('refuses another charset with 415 and more than 100 parameters with 413', () => {
    expect(refusal(() => parseForm(Buffer.from('a=1'), 'shift_jis'))).toMatchObject({
      statusCode: 415,
      message: 'unsupported charset "SHIFT_JIS"',
    });
    const many = Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&');
    expect(refusal(() => parseForm(Buffer.from(many), undefined)).statusCode).toBe(413);
    expect(
      Object.keys(parseForm(Buffer.from(many.split('&').slice(0, 100).join('&')), undefined)),
    ).toHaveLength(100);
  });

  it('reads the charset parameter of a Content-Type, quoted or not', () => {
    expect(charsetOf('application/x-www-form-urlencoded;charset="UTF-8"')).toBe('utf-8');
    expect(charsetOf('application/x-www-form-urlencoded; Charset=iso-8859-1')).toBe('iso-8859-1');
    expect(charsetOf('application/x-www-form-urlencoded')).toBeUndefined();
    expect(charsetOf(undefined)).toBeUndefined();
  });
});
