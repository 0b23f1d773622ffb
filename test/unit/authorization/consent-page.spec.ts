import { consentPage, destination } from '../../../src/authorization/views/consent.page';

describe('the consent page', () => {
  const page = consentPage({
    clientName: 'Evil <script>alert(1)</script>',
    username: 'ada',
    scopes: ['api:read', 'reports'],
    redirectUri: 'https://app.example.com/cb',
    requestId: 'R'.repeat(43),
    csrfToken: 'c'.repeat(64),
  });

  it('names the client, escaped', () => {
    expect(page).toContain('Evil &#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).not.toContain('<script>');
  });

  it('lists each scope verbatim with a description, and the two decision buttons', () => {
    expect(page).toContain('<code class="scope">api:read</code>');
    expect(page).toContain('<code class="scope">reports</code>');
    expect(page).toContain('“reports”');
    expect(page).toContain('name="decision" value="approve"');
    expect(page).toContain('name="decision" value="deny"');
    expect(page).toContain(`name="request" value="${'R'.repeat(43)}"`);
    expect(page).toContain(`name="_csrf" value="${'c'.repeat(64)}"`);
  });

  it('says where the user returns to', () => {
    expect(destination('https://app.example.com:8443/cb')).toBe('app.example.com:8443');
    expect(destination('http://127.0.0.1:51234/cb')).toBe('an application on this device');
    expect(destination('http://[::1]:51234/cb')).toBe('an application on this device');
    expect(destination('com.example.app:/oauth/cb')).toBe('com.example.app');
  });
});
