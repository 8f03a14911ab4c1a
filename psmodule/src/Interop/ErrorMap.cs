using System;
using System.Management.Automation;

namespace OBAgent.Interop
{
    /// <summary>
    /// The one table that turns a native status code (ob_error_code, common.h) into what
    /// PowerShell users see: an ErrorRecord with a stable ErrorId and an ErrorCategory.
    /// The message is always the library's own (ob_error_last()).
    ///
    ///   code            value  ErrorId                       ErrorCategory
    ///   OB_ERROR          -1   OBAgentError                  NotSpecified
    ///   OB_EINVALID       -2   InvalidInput                  InvalidArgument
    ///   OB_ENOTFOUND      -3   NotFound                      ObjectNotFound
    ///   OB_EEXISTS        -4   AlreadyExists                 ResourceExists
    ///   OB_EAUTH          -5   AuthenticationFailed          AuthenticationError
    ///   OB_EPASSPHRASE    -6   PassphraseIncorrect           AuthenticationError
    ///   OB_ECORRUPT       -7   DataCorrupt                   InvalidData
    ///   OB_ELOCKED        -8   ResourceLocked                ResourceBusy
    ///   OB_ECANCELLED     -9   OperationCancelled            OperationStopped
    ///   OB_EIO           -10   IOFailure                     WriteError
    ///   OB_ENOSPC        -11   NoSpaceLeft                   WriteError
    ///   OB_EEXPIRED      -12   Expired                       SecurityError
    ///   OB_EACCESS       -13   AccessDenied                  PermissionDenied
    ///   OB_ENOTREG       -14   ServerNotRegistered           InvalidOperation
    ///   OB_ENOMEM        -15   OutOfMemory                   ResourceUnavailable
    ///   OB_ESUPERSEDED   -16   VaultCredentialsSuperseded    InvalidArgument
    ///   OB_EFOREIGN      -17   RegisteredToAnotherVault      InvalidOperation
    ///   OB_ENOKEY        -18   EncryptionPassphraseNotSet    InvalidOperation
    ///   (any other)            OBAgentError                  NotSpecified
    ///
    /// The FullyQualifiedErrorId that PowerShell shows is "ErrorId,OBAgent.Commands.&lt;Cmdlet&gt;Command".
    /// ErrorIds never change once published; the managed-only refusals made by the cmdlets
    /// themselves (e.g. VaultCredentialsPathNotAbsolute) are listed in Commands/.
    /// </summary>
    internal static class ErrorMap
    {
        private struct Entry
        {
            internal readonly int Code;
            internal readonly string Name;
            internal readonly string ErrorId;
            internal readonly ErrorCategory Category;

            internal Entry(int code, string name, string errorId, ErrorCategory category)
            {
                Code = code;
                Name = name;
                ErrorId = errorId;
                Category = category;
            }
        }

        private static readonly Entry Unknown = new Entry(-1, "OB_ERROR", "OBAgentError", ErrorCategory.NotSpecified);

        private static readonly Entry[] Table =
        {
            Unknown,
            new Entry(-2, "OB_EINVALID", "InvalidInput", ErrorCategory.InvalidArgument),
            new Entry(-3, "OB_ENOTFOUND", "NotFound", ErrorCategory.ObjectNotFound),
            new Entry(-4, "OB_EEXISTS", "AlreadyExists", ErrorCategory.ResourceExists),
            new Entry(-5, "OB_EAUTH", "AuthenticationFailed", ErrorCategory.AuthenticationError),
            new Entry(-6, "OB_EPASSPHRASE", "PassphraseIncorrect", ErrorCategory.AuthenticationError),
            new Entry(-7, "OB_ECORRUPT", "DataCorrupt", ErrorCategory.InvalidData),
            new Entry(-8, "OB_ELOCKED", "ResourceLocked", ErrorCategory.ResourceBusy),
            new Entry(-9, "OB_ECANCELLED", "OperationCancelled", ErrorCategory.OperationStopped),
            new Entry(-10, "OB_EIO", "IOFailure", ErrorCategory.WriteError),
            new Entry(-11, "OB_ENOSPC", "NoSpaceLeft", ErrorCategory.WriteError),
            new Entry(-12, "OB_EEXPIRED", "Expired", ErrorCategory.SecurityError),
            new Entry(-13, "OB_EACCESS", "AccessDenied", ErrorCategory.PermissionDenied),
            new Entry(-14, "OB_ENOTREG", "ServerNotRegistered", ErrorCategory.InvalidOperation),
            new Entry(-15, "OB_ENOMEM", "OutOfMemory", ErrorCategory.ResourceUnavailable),
            new Entry(-16, "OB_ESUPERSEDED", "VaultCredentialsSuperseded", ErrorCategory.InvalidArgument),
            new Entry(-17, "OB_EFOREIGN", "RegisteredToAnotherVault", ErrorCategory.InvalidOperation),
            new Entry(-18, "OB_ENOKEY", "EncryptionPassphraseNotSet", ErrorCategory.InvalidOperation),
        };

        private static Entry Find(int code)
        {
            foreach (Entry e in Table)
            {
                if (e.Code == code)
                    return e;
            }
            return Unknown;
        }

        /// <summary>The exception for a failed native call; message is ob_error_last() read right after it.</summary>
        internal static OBAgentException FromNative(int code, string message)
        {
            Entry e = Find(code);
            if (string.IsNullOrEmpty(message))
                message = string.Format("The obagent library failed with {0} ({1}).", e.Name, code);
            return new OBAgentException(message, code, e.Name, e.ErrorId, e.Category);
        }

        /// <summary>The ErrorRecord for a native failure, targeting the object the cmdlet worked on.</summary>
        internal static ErrorRecord ToErrorRecord(OBAgentException ex, object target)
        {
            return new ErrorRecord(ex, ex.ErrorId, ex.Category, target);
        }
    }
}
