/**
 * The demos' "Copy invite link" button. The clipboard is there only in a secure context:
 * a phone opening the dev server by the computer's LAN address (plain http) has none, and
 * a write can be refused; the button then did nothing at all, and the person believed the
 * link was copied. Now it says "Link copied" when it was, and otherwise shows the link in
 * a prompt to copy by hand.
 */
export async function copyLink(link: string, button: HTMLElement): Promise<void> {
  try {
    if (!navigator.clipboard) throw new Error('no clipboard here (not a secure context)');
    await navigator.clipboard.writeText(link);
    button.textContent = 'Link copied';
  } catch {
    prompt('Copy this invite link:', link);
  }
}
