using System.Security;

namespace OBAgent
{
    /// <summary>
    /// Checks a passphrase against this server's key in the vault without changing anything (the
    /// DSC resource OBMachineSetting tests "the passphrase set is this one" with it; docs/DSC.md).
    /// The passphrase is never stored: it goes to the engine as bytes in unmanaged memory, wiped
    /// after the call.
    /// </summary>
    public static class OBPassphrase
    {
        /// <summary>
        /// True when passphrase is the one last set on this server (it opens the newest key record
        /// of this server in the vault), false when it is not. Throws OBAgentException when no
        /// passphrase is set (EncryptionPassphraseNotSet), when the passphrase could never have been
        /// set (InvalidInput), or when the server is not registered (ServerNotRegistered).
        /// </summary>
        public static bool Test(SecureString passphrase)
        {
            Interop.Native.SyncEnvironment();
            using (Interop.AgentHandle agent = Interop.Native.AgentOpen(null))
            using (Interop.SecretBytes secret = Interop.SecretBytes.FromSecureString(passphrase))
            {
                return Interop.Native.AgentCheckPassphrase(agent, secret);
            }
        }
    }
}
