<#
.SYNOPSIS
    obagent's main job: the MARS journey against a local vault in a temporary folder.
.DESCRIPTION
    Creates a vault and its vault credentials file, registers this server with it,
    sets the encryption passphrase and shows the machine settings. Everything lives
    in a temporary folder (the agent's state too, through OBAGENT_HOME), which is
    removed at the end unless -Keep is given.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [switch] $Keep
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
Import-Module (Join-Path $ModulePath 'OBAgent.psd1')

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("obagent-main-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$env:OBAGENT_HOME = Join-Path $work 'agent'
try {
    Write-Host "== 1. Create a vault and get its vault credentials file"
    $vault = New-OBVault -Name 'SampleVault' -Path (Join-Path $work 'vault')
    $vault | Format-List Name, VaultId, Path, StorageType
    $cred = Get-OBVaultCredentials -Path $vault.Path -OutputPath (Join-Path $work 'credentials')
    Write-Host "Vault credentials: $($cred.FullName)"

    Write-Host "== 2. Register this server and set the encryption passphrase"
    Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false
    # A sample passphrase: keep a real one somewhere other than this server.
    $passphrase = ConvertTo-SecureString -String 'sample passphrase, 16+ characters' -AsPlainText -Force
    Set-OBMachineSetting -EncryptionPassphrase $passphrase -SecurityPin ' '
    Set-OBMachineSetting -NoProxy
    Set-OBMachineSetting -NoThrottle

    Write-Host "== 3. Machine settings"
    $settings = Get-OBMachineSetting
    $settings | Format-List
    $settings.EncryptionSetting | Format-List
    if ($settings.EncryptionSetting.EncryptionKeyStatus -ne 'Set') { throw 'The encryption key is not set.' }
    Write-Host "Main job completed successfully."
}
finally {
    Remove-Item Env:OBAGENT_HOME -ErrorAction SilentlyContinue
    if (-not $Keep) { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }
    else { Write-Host "Kept $work" }
}
