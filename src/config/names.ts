/** DNS-1123 label: what Kubernetes accepts as a namespace name, and Tether as an app name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

export const DNS_LABEL_RULE =
  "at most 63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit";
