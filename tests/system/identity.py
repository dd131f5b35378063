"""Identity providers for tests: keys, JWKS documents and signed tokens
(RS256, PS256, ES256 made with cryptography and PyJWT), and self-signed TLS
certificates. Shared by the sign-in security suite and the tests of the
management API's callers (operators, tenant admins)."""

import base64
import datetime
import json
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def new_key(alg):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key, kid, alg):
    public = private_key.public_key()
    if alg == "ES256":
        # RFC 7518 6.2.1.2: x and y are the full 32 octets. (PyJWT 2.6's
        # to_jwk drops leading zero octets, and the gateway rightly skips
        # such a key: about one key in 128.)
        numbers = public.public_numbers()
        document = {"kty": "EC", "crv": "P-256",
                    "x": b64u(numbers.x.to_bytes(32, "big")),
                    "y": b64u(numbers.y.to_bytes(32, "big"))}
    else:
        document = json.loads(RSAAlgorithm.to_jwk(public))
    document.update({"kid": kid, "alg": alg, "use": "sig"})
    return document


def sign(alg, private_key, data):
    """A JWS signature (RFC 7518) of data, made with cryptography directly."""
    if alg == "RS256":
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return private_key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                  salt_length=32), hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise ValueError(alg)


def signed_raw(header_b64, payload_b64, private_key, alg="RS256"):
    """header.payload exactly as given (any spelling), with a valid signature
    over exactly that signing input."""
    signing_input = f"{header_b64}.{payload_b64}"
    return f"{signing_input}.{b64u(sign(alg, private_key, signing_input.encode()))}"


class Idp:
    """One tenant's identity provider: an issuer URL, an audience, keys."""

    def __init__(self, issuer, audience):
        self.issuer = issuer
        self.audience = audience
        self.keys = {}          # kid -> (private key, alg)

    def add_key(self, kid, alg, private_key=None):
        self.keys[kid] = (private_key or new_key(alg), alg)
        return self.keys[kid][0]

    def jwks(self):
        return {"keys": [public_jwk(key, kid, alg) for kid, (key, alg) in self.keys.items()]}

    def claims(self, **changes):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": "alice",
                  "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, kid, alg=None, key=None, headers=None, **changes):
        """A token signed with PyJWT. kid=None leaves the kid out."""
        own_key, own_alg = self.keys[kid] if kid in self.keys else (None, None)
        alg = alg or own_alg or "RS256"
        all_headers = dict(headers or {})
        if kid is not None:
            all_headers.setdefault("kid", kid)
        if kid is None and key is None:
            own_key, own_alg = next(iter(self.keys.values()))
        return jwt.encode(self.claims(**changes), key or own_key, algorithm=alg,
                          headers=all_headers)

    def raw(self, header, payload, kid="sh-rs", key=None, alg=None):
        """header/payload: dicts (made compact) or exact JSON text; signed
        with the key named by kid unless key/alg are given."""
        own_key, own_alg = self.keys[kid]
        header_text = header if isinstance(header, str) else compact(header)
        payload_text = payload if isinstance(payload, str) else compact(payload)
        return signed_raw(b64u(header_text), b64u(payload_text), key or own_key,
                          alg or own_alg)


def self_signed_certificate(key, host="idp.sh.example", addresses=()):
    """A certificate for host (and IP addresses) signed by its own key."""
    import ipaddress
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30)))
    if addresses:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]), critical=False)
    return builder.sign(key, hashes.SHA256())


def write_tls_files(directory, address="127.0.0.1"):
    """A key and self-signed certificate for address in directory: (cert, key) paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed_certificate(key, address, (address,))
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path
