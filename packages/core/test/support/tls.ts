/** A throwaway CA and a loopback server certificate, generated per test run (nothing on disk). */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair

import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key)
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`
}

export interface TestPki {
  caPem: string
  certPem: string
  keyPem: string
}

export async function createTestPki(): Promise<TestPki> {
  const now = new Date(Date.now() - 60_000)
  const later = new Date(Date.now() + 24 * 3_600_000)
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Tourniquet Test CA',
    notBefore: now,
    notAfter: later,
    keys: caKeys as CryptoKeyPair,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  })
  const leafKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: now,
    notAfter: later,
    publicKey: (leafKeys as CryptoKeyPair).publicKey,
    signingKey: (caKeys as CryptoKeyPair).privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  })
  return {
    caPem: ca.toString('pem'),
    certPem: leaf.toString('pem'),
    keyPem: await exportKey((leafKeys as CryptoKeyPair).privateKey),
  }
}

/** A self-signed client certificate with an RSA key (as app registrations use), as one PEM text. */
export async function createClientCertificatePem(): Promise<{ pem: string; thumbprintSha256: string }> {
  const rsa = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  } as const
  const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '03',
    name: 'CN=tourniquet-runner',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3_600_000),
    keys,
    signingAlgorithm: rsa,
  })
  const thumb = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex')
  return { pem: `${await exportKey(keys.privateKey)}${cert.toString('pem')}`, thumbprintSha256: thumb }
}
