import { AUTH, call } from '../support/router-harness';

/** A template with every channel, an `en` default and a `de` SMS variant. */
export const ORDER_SHIPPED = {
  category: 'transactional',
  defaultLocale: 'en',
  variants: {
    en: {
      email: { subject: 'Order {{ orderId }} shipped', text: 'Your {{ itemName }} is on its way.', html: '<p>Your <b>{{ itemName }}</b> is on its way.</p>' },
      sms: { text: 'Order {{ orderId }} shipped: {{ itemName }}' },
      whatsapp: { text: 'Order {{ orderId }} shipped: {{ itemName }}' },
      push: { subject: 'Shipped', text: '{{ itemName }} is on its way' },
    },
    de: { sms: { text: 'Bestellung {{ orderId }} versandt: {{ itemName }}' } },
  },
};

export const USER_42 = {
  addresses: { email: ['jane.doe@example.com'], sms: ['+14155550100', '+14155550101'], whatsapp: ['+14155550100'], push: ['a'.repeat(40) + ':token_Z'] },
  locale: 'en',
  timeZone: 'Europe/Berlin',
};

export async function putUser(url: string, userId: string, body: unknown, headers: Record<string, string> = AUTH) {
  return call(url, 'PUT', `/v1/users/${userId}`, headers, body);
}

export async function postTemplate(url: string, templateId: string, body: unknown, headers: Record<string, string> = AUTH) {
  return call(url, 'POST', `/v1/templates/${templateId}`, headers, body);
}

export async function notify(url: string, body: unknown, headers: Record<string, string> = {}) {
  return call(url, 'POST', '/v1/notifications', { ...AUTH, ...headers }, body);
}
