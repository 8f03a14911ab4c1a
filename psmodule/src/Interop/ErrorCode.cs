namespace OBAgent.Interop
{
    /// <summary>
    /// enum ob_error_code (common.h): the statuses a native call returns, OB_OK (0) and above
    /// for success. The values are the C ones and never change; ErrorMap turns each into the
    /// ErrorId and ErrorCategory users see. OBAgentException.NativeCode carries them as int.
    /// </summary>
    internal enum ErrorCode
    {
        /// <summary>OB_ERROR: an error with no more specific code.</summary>
        Error = -1,
        /// <summary>OB_EINVALID: an argument or an input is not acceptable.</summary>
        Invalid = -2,
        /// <summary>OB_ENOTFOUND: the named thing does not exist.</summary>
        NotFound = -3,
        /// <summary>OB_EEXISTS: the thing to create exists already.</summary>
        Exists = -4,
        /// <summary>OB_EAUTH: credentials refused (tampered, foreign, wrong PIN).</summary>
        Auth = -5,
        /// <summary>OB_EPASSPHRASE: the passphrase does not open the key.</summary>
        Passphrase = -6,
        /// <summary>OB_ECORRUPT: stored data failed its checks.</summary>
        Corrupt = -7,
        /// <summary>OB_ELOCKED: another job or process holds what is needed.</summary>
        Locked = -8,
        /// <summary>OB_ECANCELLED: stopped on request.</summary>
        Cancelled = -9,
        /// <summary>OB_EIO: the operating system or a back end failed.</summary>
        IO = -10,
        /// <summary>OB_ENOSPC: no space left where data was being written.</summary>
        NoSpace = -11,
        /// <summary>OB_EEXPIRED: credentials, PIN or a time-limited grant expired.</summary>
        Expired = -12,
        /// <summary>OB_EACCESS: permission denied by the OS or the back end.</summary>
        Access = -13,
        /// <summary>OB_ENOTREG: this server is not registered to a vault.</summary>
        NotRegistered = -14,
        /// <summary>OB_ENOMEM: out of memory.</summary>
        NoMemory = -15,
        /// <summary>OB_ESUPERSEDED: a newer credentials file has been issued.</summary>
        Superseded = -16,
        /// <summary>OB_EFOREIGN: the server is registered to another vault.</summary>
        Foreign = -17,
        /// <summary>OB_ENOKEY: no encryption passphrase has been set.</summary>
        NoKey = -18,
    }
}
