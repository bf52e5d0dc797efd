import { packIn, packLine } from './buy';

const packs = [
  { id: 'starter', name: 'Starter', credits: 10, price_cents: 100, currency: 'usd' },
  { id: 'pro', name: 'Pro', credits: 100, price_cents: 1000, currency: 'usd' },
];

test('a pack is named by its id or name in any case; another name is refused with the choices', () => {
  expect(packIn(packs, 'PRO')).toBe(packs[1]);
  expect(packIn(packs, ' starter ')).toBe(packs[0]);
  expect(() => packIn(packs, 'business')).toThrow('unknown pack "business": choose one of starter, pro');
});

test('a pack is listed with its credits and its price in its currency', () => {
  expect(packLine(packs[1]!)).toBe('pro\tPro\t100 credits\t$10.00');
  expect(packLine({ ...packs[0]!, currency: 'eur', price_cents: 250 })).toBe('starter\tStarter\t10 credits\t€2.50');
});
