import { receiptWindowOf } from '../src/load/load-flags';

// The clients' delivery-receipt window a load scenario hands to the SDK (its deliveredDebounceMs).
describe('receiptWindowOf', () => {
  it('leaves the SDK its default when no flag is given', () => {
    expect(receiptWindowOf({})).toBeUndefined();
  });

  it('turns receipts off with --no-receipts', () => {
    expect(receiptWindowOf({ 'no-receipts': true })).toBe(0);
  });

  it('takes a window in milliseconds', () => {
    expect(receiptWindowOf({ 'receipt-window-ms': '2000' })).toBe(2000);
  });

  it('refuses a window that is not a positive integer, and both flags at once', () => {
    expect(() => receiptWindowOf({ 'receipt-window-ms': '0' })).toThrow('--receipt-window-ms must be an integer ≥ 1, got "0"');
    expect(() => receiptWindowOf({ 'receipt-window-ms': '1.5' })).toThrow('--receipt-window-ms must be an integer');
    expect(() => receiptWindowOf({ 'receipt-window-ms': 'soon' })).toThrow('--receipt-window-ms must be an integer');
    expect(() => receiptWindowOf({ 'no-receipts': true, 'receipt-window-ms': '2000' })).toThrow('--no-receipts and --receipt-window-ms exclude each other');
  });
});
