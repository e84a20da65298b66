import type { Locator, Page } from 'playwright-core';

/**
 * What a user does in the web app, in the words of its screens (labels, roles, visible text), so the tests
 * read like the steps a person takes and break when the screens stop saying what they mean.
 */
export const PASSWORD = 'correct horse battery';

/**
 * Signs up and waits until the app is connected: until then the screen may still change under the pointer
 * (a slow first connection brings up the "Connecting…" banner, which moves everything below it).
 */
export async function signUp(page: Page, baseUrl: string, username: string, displayName: string): Promise<void> {
  await signUpForm(page, baseUrl, username, displayName);
  await page.locator('[data-connection-state="connected"]').waitFor({ state: 'attached' });
}

/** Signs up and waits for the signed-in screen, whatever the connection does. */
export async function signUpForm(page: Page, baseUrl: string, username: string, displayName: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('button', { name: 'No account yet? Sign up' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function createRoom(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'New room' }).click();
  await page.getByLabel('Room name').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await roomHeading(page, name).waitFor();
}

export async function joinRoom(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Browse rooms' }).click();
  await page.getByLabel('Search public rooms').fill(name);
  await page.getByRole('listitem').filter({ hasText: name }).getByRole('button', { name: 'Join' }).click();
  await roomHeading(page, name).waitFor();
}

export function roomHeading(page: Page, title: string): Locator {
  return page.getByRole('heading', { level: 2 }).filter({ hasText: title });
}

export function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

export async function send(page: Page, text: string): Promise<void> {
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
}

/** The bubble of a message whose text is exactly `text` (pending or stored). */
export function bubble(page: Page, text: string): Locator {
  return page.getByRole('log', { name: 'Messages' }).locator('article').filter({ has: page.locator('p[data-message-id]', { hasText: new RegExp(`^${escape(text)}$`) }) });
}

/** The delivery status of one of our own messages: sending, failed, sent, delivered or read. */
export async function statusOf(page: Page, text: string): Promise<string | null> {
  return bubble(page, text).locator('[data-status]').first().getAttribute('data-status');
}

export async function waitForStatus(page: Page, text: string, status: string, timeout = 30_000): Promise<void> {
  await bubble(page, text).locator(`[data-status="${status}"]`).first().waitFor({ timeout });
}

/** Texts of the message bubbles currently rendered, top to bottom. */
export async function renderedTexts(page: Page): Promise<string[]> {
  return page.getByRole('log', { name: 'Messages' }).locator('p[data-message-id]').allTextContents();
}

export async function connectionState(page: Page): Promise<string | null> {
  return page.locator('[data-connection-state]').getAttribute('data-connection-state');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
