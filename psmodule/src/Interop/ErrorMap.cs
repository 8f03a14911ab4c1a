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
    /// themselves (e.g. VaultCredentialsPathNotAbsolute) are listed in Cmdlets/OBCmdletBase.cs and beside the cmdlets.
    /// </summary>
    internal static class ErrorMap
    {
        private struct Entry
        {
            internal readonly int Code;
            internal readonly string Name;
            internal readonly string ErrorId;
            internal readonly ErrorCategory Category;

            internal Entry(ErrorCode code, string name, string errorId, ErrorCategory category)
            {
                Code = (int)code;
                Name = name;
                ErrorId = errorId;
                Category = category;
            }
        }

        private static readonly Entry Unknown = new Entry(ErrorCode.Error, "OB_ERROR", "OBAgentError", ErrorCategory.NotSpecified);

        private static readonly Entry[] Table =
        {
            Unknown,
            new Entry(ErrorCode.Invalid, "OB_EINVALID", "InvalidInput", ErrorCategory.InvalidArgument),
            new Entry(ErrorCode.NotFound, "OB_ENOTFOUND", "NotFound", ErrorCategory.ObjectNotFound),
            new Entry(ErrorCode.Exists, "OB_EEXISTS", "AlreadyExists", ErrorCategory.ResourceExists),
            new Entry(ErrorCode.Auth, "OB_EAUTH", "AuthenticationFailed", ErrorCategory.AuthenticationError),
            new Entry(ErrorCode.Passphrase, "OB_EPASSPHRASE", "PassphraseIncorrect", ErrorCategory.AuthenticationError),
            new Entry(ErrorCode.Corrupt, "OB_ECORRUPT", "DataCorrupt", ErrorCategory.InvalidData),
            new Entry(ErrorCode.Locked, "OB_ELOCKED", "ResourceLocked", ErrorCategory.ResourceBusy),
            new Entry(ErrorCode.Cancelled, "OB_ECANCELLED", "OperationCancelled", ErrorCategory.OperationStopped),
            new Entry(ErrorCode.IO, "OB_EIO", "IOFailure", ErrorCategory.WriteError),
            new Entry(ErrorCode.NoSpace, "OB_ENOSPC", "NoSpaceLeft", ErrorCategory.WriteError),
            new Entry(ErrorCode.Expired, "OB_EEXPIRED", "Expired", ErrorCategory.SecurityError),
            new Entry(ErrorCode.Access, "OB_EACCESS", "AccessDenied", ErrorCategory.PermissionDenied),
            new Entry(ErrorCode.NotRegistered, "OB_ENOTREG", "ServerNotRegistered", ErrorCategory.InvalidOperation),
            new Entry(ErrorCode.NoMemory, "OB_ENOMEM", "OutOfMemory", ErrorCategory.ResourceUnavailable),
            new Entry(ErrorCode.Superseded, "OB_ESUPERSEDED", "VaultCredentialsSuperseded", ErrorCategory.InvalidArgument),
            new Entry(ErrorCode.Foreign, "OB_EFOREIGN", "RegisteredToAnotherVault", ErrorCategory.InvalidOperation),
            new Entry(ErrorCode.NoKey, "OB_ENOKEY", "EncryptionPassphraseNotSet", ErrorCategory.InvalidOperation),
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
