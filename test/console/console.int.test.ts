import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSystem, waitFor } from '@ca/testing';

/**
 * The merchant console in headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * the whole system as `npm start` runs it, over the router's HTTPS port (the session cookie is
 * Secure). What a merchant does: sign in, manage keys, create a campaign, upload a CSV with bad rows
 * and read the report, start it and watch the counts reach 48 sent without reloading, open a
 * message's trace; a second merchant sees none of it.
 *
 * Templates: create one with an email and an SMS variant, see the server's preview of each from
 * sample parameters (and the missing-parameter problem before they are given), save a second version
 * and open the first from the version history. Campaigns still carry their own text with
 * {{placeholders}}.
 *
 * Dashboard: a second tab on the live dashboard, opened before the campaign starts, shows the 48
 * sent by channel and provider without a reload; merchant B's dashboard stays empty.
 *
 * CONSOLE_SCREENSHOTS=<dir> saves the main pages as PNG there (docs/console holds the committed ones).
 */
const ROOT = join(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const PASSWORD_A = 'acme console password 1';
const PASSWORD_B = 'globex console password 2';

function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: join(ROOT, 'router-service'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`merchant ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

function recipientsCsv(): string {
  const lines = ['email,firstName,userId'];
  for (let i = 1; i <= 50; i++) {
    if (i === 10) lines.push(`not-an-address,Ann${i},u${i}`);
    else if (i === 30) lines.push(`user${i}@example.com,,u${i}`);
    else lines.push(`user${i}@example.com,Ann${i},u${i}`);
  }
  return `${lines.join('\n')}\n`;
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, base: string, email: string, password: string, keyboard = false): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  if (keyboard) {
    // Keyboard only: the first Tab lands on the email field, the next on the password, Enter submits.
    await page.keyboard.press('Tab');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
  } else {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
}

test('merchant console in Chromium: sign in, keys, template preview, CSV report, live counts to 48 sent, trace, isolation', { timeout: 300_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  const system = await startSystem({ database: 'comm_aggregator_console' });
  t.after(() => system.stop());
  const dbEnv = { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${system.database}`, KAFKA_BROKERS: 'unused:9092' };
  await cli(dbEnv, ['create', 'acme']);
  await cli(dbEnv, ['user', 'acme', 'ops@acme.example', '--password', PASSWORD_A]);
  await cli(dbEnv, ['create', 'globex']);
  await cli(dbEnv, ['user', 'globex', 'ops@globex.example', '--password', PASSWORD_B]);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  t.after(() => browser.close());
  const base = system.urls.routerHttps;
  const newContext = (width = 1280): Promise<BrowserContext> => browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height: 900 }, acceptDownloads: true });

  // --- merchant A ---
  const a = await newContext();
  const page = await a.newPage();
  const csp: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await page.goto(`${base}/console/`);
  await shot(page, 'sign-in');
  await page.getByLabel('Email').fill('ops@acme.example');
  await page.getByLabel('Password').fill('wrong password!!');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not correct' }).waitFor();
  await signIn(page, base, 'ops@acme.example', PASSWORD_A);
  const cookies = await a.cookies();
  const session = cookies.find((c) => c.name === '__Host-ca_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate('document.cookie'), '', 'the page script cannot read the session');

  // API keys: create (shown once), listed by prefix only.
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name (optional)').fill('console test key');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = await page.getByLabel('Key', { exact: true }).inputValue();
  assert.match(shown, /^ca_live_/);
  await page.getByRole('cell', { name: 'console test key', exact: true }).waitFor();
  await shot(page, 'api-keys');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  assert.equal(await page.getByLabel('Key', { exact: true }).count(), 0, 'the secret is not shown again');
  const acmeKeyPrefix = shown.slice(0, 16);

  // Templates: create (email + SMS), preview from sample parameters via POST …/preview, versions.
  await page.getByRole('link', { name: 'Templates', exact: true }).click();
  await page.getByText('No templates yet.').waitFor();
  await page.getByRole('link', { name: 'New template' }).click();
  await page.getByLabel('Template ID').fill('ORDER_SHIPPED');
  await page.getByLabel('Email subject').fill('Order {{ orderId }} shipped');
  await page.getByLabel('Email text').fill('Hi {{ firstName }}, your order {{ orderId }} is on its way.');
  await page.getByRole('checkbox', { name: 'SMS' }).check();
  await page.getByLabel('SMS text').fill('Order {{ orderId }} shipped.');
  await page.getByRole('checkbox', { name: 'Quiet hours' }).check();
  await page.getByLabel('Quiet hours start').fill('22:30');
  await page.getByRole('button', { name: 'Create template' }).click();
  await page.getByRole('heading', { name: 'Template ORDER_SHIPPED' }).waitFor();
  // No parameters yet: the preview shows the API's TEMPLATE_PARAMS_MISSING list per channel.
  const emailPreview = page.getByRole('article', { name: 'Email preview' });
  const smsPreview = page.getByRole('article', { name: 'SMS preview' });
  await emailPreview.getByRole('alert').filter({ hasText: 'Missing parameters: orderId, firstName' }).waitFor();
  await smsPreview.getByRole('alert').filter({ hasText: 'Missing parameters: orderId' }).waitFor();
  await page.getByLabel('Sample parameters (JSON)').fill('{"orderId": "A-17", "firstName": "Ann"');
  await page.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
  await page.getByLabel('Sample parameters (JSON)').fill('{"orderId": "A-17", "firstName": "Ann"}');
  await page.getByTestId('preview-email-text').filter({ hasText: 'Hi Ann, your order A-17 is on its way.' }).waitFor();
  assert.equal(await page.getByTestId('preview-email-subject').textContent(), 'Order A-17 shipped');
  assert.equal(await page.getByTestId('preview-sms-text').textContent(), 'Order A-17 shipped.');
  await smsPreview.getByText('GSM-7, 1 segment(s)').waitFor();
  assert.equal(await page.getByRole('alert').count(), 0, 'no problem shown once the parameters are complete');
  // A second version; the history lists both and opens the first again.
  await page.getByLabel('SMS text').fill('Your order {{ orderId }} has shipped.');
  await page.getByRole('button', { name: 'Save new version' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved version 2.' }).waitFor();
  const quietHours = await page.evaluate(async () => ((await (await fetch('/v1/templates/ORDER_SHIPPED')).json()) as { quietHours: unknown }).quietHours);
  assert.deepEqual(quietHours, { start: '22:30', end: '08:00' }, 'the quiet hours are kept in version 2');
  await page.getByTestId('preview-sms-text').filter({ hasText: 'Your order A-17 has shipped.' }).waitFor();
  const versions = page.getByRole('table', { name: 'Version history' }).locator('tbody tr');
  await waitFor('two versions listed', async () => (await versions.count()) === 2, 30_000, 100);
  await shot(page, 'templates');
  await page.getByRole('button', { name: 'Open version 1' }).click();
  await page.getByRole('heading', { name: 'Preview of version 1' }).waitFor();
  assert.equal(await page.getByLabel('SMS text').inputValue(), 'Order {{ orderId }} shipped.');
  await page.getByTestId('preview-sms-text').filter({ hasText: /^Order A-17 shipped\.$/ }).waitFor();
  await page.getByRole('link', { name: 'Templates', exact: true }).click();
  await page.getByRole('link', { name: 'ORDER_SHIPPED' }).waitFor();
  assert.equal(await page.getByRole('table').locator('tbody tr td').nth(1).textContent(), '2', 'the list shows the latest version');

  // New campaign: draft → CSV with 2 bad rows of 50 → report.
  await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.getByLabel('Campaign name').fill('Spring sale');
  await page.getByLabel('Channel').selectOption('email');
  await page.getByLabel('Subject').fill('Hello {{firstName}}');
  await page.getByLabel('Message text').fill('Hi {{firstName}}, spring is here: 20% off this week.');
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.getByLabel('Recipients file (CSV)').setInputFiles({ name: 'recipients.csv', mimeType: 'text/csv', buffer: Buffer.from(recipientsCsv()) });
  await page.getByRole('button', { name: 'Upload and check' }).click();
  await page.getByTestId('accepted').filter({ hasText: '48' }).waitFor();
  assert.equal(await page.getByTestId('rejected').textContent(), '2');
  const rejectedRows = await page.getByRole('table', { name: 'Rejected rows' }).locator('tbody tr').allTextContents();
  assert.equal(rejectedRows.length, 2);
  assert.match(rejectedRows[0]!, /^11.*email address/, 'line 11: the 10th recipient (the header is line 1)');
  assert.match(rejectedRows[1]!, /^31.*empty value for \{\{firstName\}\}/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the report (CSV)' }).click()]);
  const report = readFileSync(await download.path(), 'utf8');
  assert.match(report, /^line,reason\r\n11,.*\r\n31,.*\r\n$/);
  await shot(page, 'new-campaign-report');

  // The live dashboard in a second tab, open before anything is sent: its numbers must move by themselves.
  const dashboard = await a.newPage();
  await dashboard.goto(`${base}/console/#/dashboard`);
  await dashboard.getByRole('heading', { name: 'Delivery dashboard' }).waitFor();
  await dashboard.getByText('No messages in this window yet.').waitFor();
  await dashboard.evaluate('window.marker = 7');

  // Start now; the detail page receives counts over SSE. A marker on window proves no reload happened.
  await page.getByRole('button', { name: 'Start campaign' }).click();
  await page.getByRole('heading', { name: 'Spring sale' }).waitFor();
  await page.evaluate('window.marker = 42');
  await waitFor('48 sent on the campaign page', async () => (await page.getByTestId('count-sent').textContent()) === '48', 120_000, 250);
  assert.equal(await page.evaluate('window.marker'), 42, 'counts arrived without a reload');
  assert.equal(await page.getByTestId('count-accepted').textContent(), '48');
  assert.equal(await page.getByTestId('count-pending').textContent(), '0');
  assert.equal(await page.getByTestId('status').textContent(), 'completed');
  await page.getByLabel('Show').selectOption('sent');
  await page.locator('tbody tr').first().waitFor();
  await shot(page, 'campaign-detail');

  // The dashboard tab counted the same 48 by channel and provider, pushed over SSE, never reloaded.
  await waitFor('48 sent on the dashboard', async () => (await dashboard.getByTestId('total-sent').textContent()) === '48', 30_000, 250);
  assert.equal(await dashboard.evaluate('window.marker'), 7, 'the dashboard moved without a reload');
  const emailRow = dashboard.getByRole('table', { name: 'By channel and provider' }).locator('tbody tr').filter({ has: dashboard.getByRole('rowheader', { name: 'email' }) });
  assert.equal(await emailRow.getByTestId('sent').textContent(), '48');
  assert.equal(await dashboard.getByTestId('total-success').textContent(), '100%');
  await shot(dashboard, 'dashboard');
  await dashboard.setViewportSize({ width: 390, height: 844 });
  assert.ok(await dashboard.evaluate('document.documentElement.scrollWidth <= 390'), 'the dashboard fits 390 px');
  await dashboard.close();

  // One message's trace: the waterfall from logging-service, with the delivery attempt in it.
  const [trace] = await Promise.all([a.waitForEvent('page'), page.getByRole('link', { name: 'waterfall for line 2', exact: true }).click()]);
  await waitFor('the message trace with its delivery attempt', async () => {
    await trace.reload();
    return (await trace.content()).includes('delivery.attempt');
  }, 60_000, 1000);
  assert.match(await trace.content(), /message\.route/);
  await shot(trace, 'message-trace');
  await trace.close();

  // Campaign list at phone width: no sideways scrolling of the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.getByRole('link', { name: 'Spring sale' }).waitFor();
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= 390'), 'fits 390 px');
  await shot(page, 'campaigns-phone');
  await page.goto(`${base}/console/#/templates/edit/ORDER_SHIPPED`);
  await page.getByLabel('Sample parameters (JSON)').fill('{"orderId": "A-17", "firstName": "Ann"}');
  await page.getByTestId('preview-email-text').waitFor();
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= 390'), 'the template page fits 390 px');
  await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.reload();
  await page.getByRole('link', { name: 'Spring sale' }).waitFor();
  await shot(page, 'campaigns');
  const campaignUrl = await page.getByRole('link', { name: 'Spring sale' }).getAttribute('href');
  const campaignId = campaignUrl!.split('/').pop()!;
  assert.deepEqual(csp, [], 'no Content-Security-Policy violations');

  // --- merchant B, signed in with the keyboard only: sees none of A's campaigns, keys or messages ---
  const b = await newContext(390);
  const pageB = await b.newPage();
  await signIn(pageB, base, 'ops@globex.example', PASSWORD_B, true);
  await pageB.getByText('No campaigns yet').waitFor();
  const foreign = await pageB.evaluate(async (id) => (await fetch(`/v1/campaigns/${id}`)).status, campaignId);
  assert.equal(foreign, 404);
  await pageB.goto(`${base}/console/#/campaigns/${campaignId}`);
  await pageB.getByRole('alert').filter({ hasText: 'No campaign with id' }).waitFor();
  await pageB.goto(`${base}/console/#/keys`);
  await pageB.getByRole('table', { name: 'Keys of this merchant' }).waitFor();
  assert.equal((await pageB.content()).includes(acmeKeyPrefix), false, "A's key is not listed for B");
  await pageB.getByRole('link', { name: 'Templates', exact: true }).click();
  await pageB.getByText('No templates yet.').waitFor();
  await pageB.getByRole('link', { name: 'Dashboard', exact: true }).click();
  await pageB.getByText('No messages in this window yet.').waitFor();
  assert.equal(await pageB.getByTestId('total-sent').textContent(), '0', "A's sends are not in B's numbers");
  assert.equal(await pageB.evaluate(async () => (await fetch('/v1/templates/ORDER_SHIPPED')).status), 404);

  // Sign-out ends the session: the API answers 401 with the old cookie.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const after = await page.evaluate(async () => (await fetch('/v1/campaigns')).status);
  assert.equal(after, 401);
});
