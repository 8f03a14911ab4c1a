# The README's main job on Windows (run by .ci/windows in the PowerShell host under wine64): a vault,
# its credentials, registration, a passphrase, a policy with C:\ paths, a backup, a restore to
# another folder, and a byte-for-byte comparison. Prints "Main job completed successfully." last.
param([Parameter(Mandatory)] [string] $ModuleRoot, [Parameter(Mandatory)] [string] $Work)
$ErrorActionPreference = 'Stop'
$env:OBAGENT_HOME = Join-Path $Work 'state'
$env:OBAGENT_SERVER_NAME = 'win-lane'
$data = Join-Path $Work 'data'
$vault = Join-Path $Work 'vault'
$restored = Join-Path $Work 'restored'

# Both names load, as scripts written for MARS import MSOnlineBackup.
Import-Module (Join-Path $ModuleRoot 'MSOnlineBackup\MSOnlineBackup.psd1')
if (-not (Get-Command Start-OBBackup -ErrorAction SilentlyContinue)) { throw 'MSOnlineBackup did not bring the OBAgent cmdlets' }
"OBAgent $((Get-Command Start-OBBackup).Module.Version) on $([Environment]::OSVersion.VersionString)"

New-Item -ItemType Directory -Force -Path (Join-Path $data 'reports\2026') | Out-Null
Set-Content -Path (Join-Path $data 'reports\2026\q1.txt') -Value ('quarter one ' * 500)
Set-Content -Path (Join-Path $data 'reports\readme.txt') -Value 'Café, naïve: non-ASCII names and text'
$rng = [System.Random]::new(42); $bytes = [byte[]]::new(1500000); $rng.NextBytes($bytes)
[System.IO.File]::WriteAllBytes((Join-Path $data 'big.bin'), $bytes)
New-Item -ItemType Directory -Force -Path (Join-Path $data 'naïve folder') | Out-Null
Set-Content -Path (Join-Path $data 'naïve folder\notes.txt') -Value 'notes'

New-OBVault -Name 'Lane-Vault' -Path $vault | Out-Null
$cred = Get-OBVaultCredentials -Path $vault -OutputPath (Join-Path $Work 'creds')
if (-not $cred.FullName.StartsWith($Work, [StringComparison]::OrdinalIgnoreCase)) { throw "credentials file at $($cred.FullName)" }
Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false | Out-Null
Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-SecureString 'Windows-Lane-Passphrase-2026' -AsPlainText -Force) -WarningAction SilentlyContinue | Out-Null

$policy = New-OBPolicy
Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec $data) | Out-Null
Set-OBSchedule -Policy $policy -Schedule (New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 21:00) | Out-Null
Set-OBRetentionPolicy -Policy $policy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 30) | Out-Null
Set-OBPolicy -Policy $policy -Confirm:$false | Out-Null
$spec = (Get-OBFileSpec -Policy (Get-OBPolicy))[0]
if ($spec.FilePath -ne $data) { throw "the policy shows '$($spec.FilePath)', not '$data'" }

$last = Get-OBPolicy | Start-OBBackup | Select-Object -Last 1
if ($last -ne 'The backup operation completed successfully.') { throw "backup: $last" }
$job = Get-OBJob -Previous 1
if ($job.JobStatus.JobState -ne 'Completed') { throw "backup job: $($job.JobStatus.JobState)" }

$source = @(Get-OBRecoverableSource)[0]
if ($source.FriendlyName -notmatch '^[A-Za-z]:\\$') { throw "data source '$($source.FriendlyName)' is not a volume" }
$point = @(Get-OBRecoverableItem -Source $source)[0]
$item = New-OBRecoverableItem $point ($data.Substring(3)) $true
$last = Start-OBRecovery -RecoverableItem $item -RecoveryOption (New-OBRecoveryOption -DestinationPath $restored -OverwriteType Overwrite) | Select-Object -Last 1
if ($last -ne 'The recovery operation completed successfully.') { throw "recovery: $last" }

$back = Join-Path $restored $data.Substring(3)
$want = @(Get-ChildItem -LiteralPath $data -Recurse -File)
foreach ($f in $want) {
    $copy = Join-Path $back $f.FullName.Substring($data.Length + 1)
    if (-not (Test-Path -LiteralPath $copy)) { throw "not restored: $copy" }
    if ((Get-FileHash -LiteralPath $f.FullName).Hash -ne (Get-FileHash -LiteralPath $copy).Hash) { throw "differs: $copy" }
    if ((Get-Item -LiteralPath $copy).LastWriteTimeUtc -ne $f.LastWriteTimeUtc) { throw "time differs: $copy" }
}
"$($want.Count) files restored to $back, byte for byte"
'Main job completed successfully.'
